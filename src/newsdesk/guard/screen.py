"""Content screening: flag prompt injection and hidden text in collected content.

Runs in collect (after parse + clean, before storage) through ``screen_record``
and on any text the ask path ingests. Flags travel with the item (``items.flags``)
into every output: briefing JSON ``flags``, markdown/HTML markers, ask citations.
Flagged text is still shown to the reader, but it is never handed to an LLM as
instructions: the answer path wraps passages as quoted data.

Two flags:

* ``prompt_injection``: phrases that address a language model rather than a
  reader ("ignore all previous instructions", "you are now ...", chat role
  tags such as ``<|im_start|>``, "### Instruction"). Patterns are anchored on
  the imperative form so that news *about* instructions ("the ministry issued
  new instructions to hospitals") does not match.
* ``hidden_text``: zero-width characters in the text, or HTML that hides text
  from a human reader (``display:none``, ``visibility:hidden``,
  ``font-size:0``, same foreground and background colour, white on white,
  ``aria-hidden`` elements that contain text).
"""

from __future__ import annotations

import html as _html
import re
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from newsdesk.models import ItemRecord

PROMPT_INJECTION = "prompt_injection"
HIDDEN_TEXT = "hidden_text"

# (pattern, trigger groups): a pattern can only match text whose lower-cased form
# contains, for EVERY group, at least one of the group's substrings (each group
# lists literal words the pattern requires; the rarest group comes first so the
# check usually stops there). The groups are a cheap pre-filter (``str in str``);
# the regex decides. Keep them in step when editing a pattern.
#: "ai" at the start of a word (the patterns need ``\bAI``); plain "ai" occurs in "said".
_AI_WORD = re.compile(r"(?<!\w)ai")
_INJECTION_SPECS: list[tuple[str, tuple[tuple[str | re.Pattern[str], ...], ...]]] = [
    # "ignore all previous instructions", "ignore the prior prompt", "forget your earlier rules"
    (r"\b(?:ignore|disregard|forget|override|bypass)\s+(?:all\s+|any\s+|the\s+|your\s+|my\s+|these\s+|those\s+)*"
     r"(?:previous|prior|preceding|above|earlier|former|original|system)\s+"
     r"(?:instructions?|prompts?|rules|directions|guidelines|messages?|context|commands?)\b",
     (("ignore", "disregard", "forget", "override", "bypass"),
      ("previous", "prior", "preceding", "above", "earlier", "former", "original", "system"),
      ("instruction", "prompt", "rules", "direction", "guideline", "message", "context", "command"))),
    (r"\bdisregard\s+(?:all\s+|everything\s+)?(?:the\s+)?(?:above|foregoing|previous)\b",
     (("disregard",), ("above", "foregoing", "previous"))),
    (r"\bignore\s+(?:all\s+|everything\s+)?(?:the\s+)?above\b", (("ignore",), ("above",))),
    # role reassignment addressed to the model: "you are now DAN", "from now on you are"
    (r"\byou\s+are\s+now\s+(?:a|an|the|in|my|DAN|acting|going|free|unrestricted|jailbroken)\b",
     (("now",), ("you",), ("are",))),
    (r"\bfrom\s+now\s+on,?\s+you\s+(?:are|will|must|should)\b", (("now",), ("from",), ("you",))),
    (r"\b(?:reveal|print|show|output|repeat|leak)\s+(?:your|the)\s+(?:hidden\s+|initial\s+|original\s+)?system\s+prompt\b",
     (("prompt",), ("system",), ("reveal", "print", "show", "output", "repeat", "leak"))),
    (r"\bsystem\s+prompt\s*:", (("prompt",), ("system",), (":",))),
    (r"\bnew\s+(?:system\s+)?instructions?\s*:", (("instruction",), ("new",), (":",))),
    (r"(?:^|\n)\s*act\s+as\s+(?:a|an|the|if|my)\b", (("act",), ("as",))),
    (r"\bpretend\s+(?:to\s+be|you\s+are)\s+(?:a|an|the)\b", (("pretend",),)),
    (r"\b(?:AI|assistant|language\s+model|LLM|chatbot)s?\b[^.\n]{0,40}\b(?:must|should)\s+(?:ignore|disregard|say|respond|reply|output)\b",
     (("must", "should"), ("ignore", "disregard", "say", "respond", "reply", "output"),
      (_AI_WORD, "assistant", "language", "llm", "chatbot"))),
    (r"\b(?:AI|assistants?|language\s+models?|LLMs?|chatbots?|bots?|agents?|crawlers?)\s+(?:that\s+(?:is|are)\s+)?reading\s+this\b",
     (("reading",), ("this",), (_AI_WORD, "assistant", "language", "llm", "chatbot", "bot", "agent", "crawler"))),
    # chat-template and instruction-tuning markup
    (r"<\|(?:im_start|im_end|system|user|assistant|endoftext|begin_of_text|start_header_id|eot_id)\|>",
     (("<|",), ("|>",))),
    (r"\[/?INST\]", (("inst]",),)),
    (r"<<\s*/?SYS\s*>>", (("<<",), (">>",), ("sys",))),
    (r"(?:^|\n)\s*#{2,}\s*(?:Instruction|System|Response|Input)s?\s*:?\s*(?:\n|$)",
     (("##",), ("instruction", "system", "response", "input"))),
    (r"(?:^|\n)\s*(?:system|assistant)\s*:\s*you\b", (("system", "assistant"), (":",), ("you",))),
]
_INJECTION_PATTERNS = [p for p, _ in _INJECTION_SPECS]
#: All patterns in one alternation (leftmost match wins; ties go to the earlier pattern).
_INJECTION = re.compile("|".join(f"(?:{p})" for p in _INJECTION_PATTERNS), re.IGNORECASE)
#: (compiled pattern, its first trigger group as a set, the remaining groups)
_INJECTION_EACH = [(re.compile(p, re.IGNORECASE), frozenset(groups[0]), groups[1:]) for p, groups in _INJECTION_SPECS]
#: Every word of every first group, each tested once per text.
_FIRST_WORDS: tuple[str, ...] = tuple(sorted({w for _, head, _ in _INJECTION_EACH for w in head}))
#: Characters that re.IGNORECASE matches to an ASCII letter but ``str.lower`` does not
#: turn into one (dotted/dotless i, long s): text containing them skips the pre-filter.
_FOLD_SPECIAL = re.compile("[\u0130\u0131\u017f]")

_ZERO_WIDTH = re.compile("[\u200b\u200c\u200d\u2060\ufeff]")

# Inline-style rules that hide text from a sighted reader (also used by collect.clean to drop such text).
HIDDEN_STYLE = re.compile(
    r"display\s*:\s*none|visibility\s*:\s*hidden|font-size\s*:\s*0(?:\.0+)?(?:px|pt|em|rem|%)?\s*(?:;|$|!)"
    r"|opacity\s*:\s*0(?:\.0+)?\s*(?:;|$|!)|(?:max-)?height\s*:\s*0(?:px)?\s*;[^\"']*overflow\s*:\s*hidden",
    re.IGNORECASE,
)
_COLOR = re.compile(r"(?<![-\w])color\s*:\s*([^;\"']+)", re.IGNORECASE)
_BG = re.compile(r"background(?:-color)?\s*:\s*([^;\"']+)", re.IGNORECASE)
_WHITE = {"white", "#fff", "#ffffff", "rgb(255,255,255)", "rgba(255,255,255,1)", "#fffffe"}


def _norm_colour(c: str) -> str:
    c = re.sub(r"\s+", "", c.strip().lower()).replace("!important", "")
    if re.fullmatch(r"#[0-9a-f]{3}", c):
        c = "#" + "".join(ch * 2 for ch in c[1:])
    return {"white": "#ffffff", "rgb(255,255,255)": "#ffffff", "black": "#000000", "rgb(0,0,0)": "#000000"}.get(c, c)


def _hidden_by_style(style: str) -> bool:
    if HIDDEN_STYLE.search(style):
        return True
    fg = _COLOR.search(style)
    if fg:
        fgc = _norm_colour(fg.group(1))
        bg = _BG.search(style)
        if bg and _norm_colour(bg.group(1).split()[0]) == fgc:
            return True
        # white text with no background declared reads as invisible on the usual white page
        if not bg and fgc in {_norm_colour(w) for w in _WHITE}:
            return True
    return False


def _hidden_html(html: str) -> bool:
    """True when the HTML hides text (non-empty) from a human reader."""
    low = html.lower()
    if "style" not in low and "hidden" not in low:
        return False  # no style/hidden/aria-hidden attribute at all: nothing to parse
    try:
        from selectolax.lexbor import LexborHTMLParser as HTMLParser
    except ImportError:  # pragma: no cover - selectolax is a core dependency
        return bool(HIDDEN_STYLE.search(html))
    tree = HTMLParser(html)
    for node in tree.css("[style], [hidden], [aria-hidden]"):
        text = (node.text(deep=True) or "").strip()
        if not text:
            continue
        attrs = node.attributes
        if "hidden" in attrs and node.tag not in {"input"}:
            return True
        if (attrs.get("aria-hidden") or "").strip().lower() == "true":
            return True
        style = attrs.get("style") or ""
        if style and _hidden_by_style(style):
            return True
    return False


def find_injection(text: str) -> str | None:
    """The first prompt-injection phrase in ``text``, or None.

    Same result as searching with the combined pattern ``_INJECTION`` (leftmost
    match, earlier pattern on a tie), but only the patterns whose trigger words
    occur in the text are run: most news text triggers none or one of them.
    """
    if not text:
        return None
    if not text.isascii() and _FOLD_SPECIAL.search(text):
        m = _INJECTION.search(text)
        return m.group(0).strip() if m else None
    low = text.lower()
    first = _first_words(low)
    if not first:
        return None
    best: re.Match[str] | None = None
    for pattern, head, rest in _INJECTION_EACH:
        if first.isdisjoint(head) or not _triggered(low, rest):
            continue
        m = pattern.search(text)
        if m is not None and (best is None or m.start() < best.start()):
            best = m
    return best.group(0).strip() if best else None


def _first_words(low: str) -> set[str]:
    """The first-group trigger words present in ``low``."""
    return {w for w in _FIRST_WORDS if w in low}


def _triggered(low: str, groups: tuple[tuple[str | re.Pattern[str], ...], ...]) -> bool:
    """True when every trigger group has a word in ``low`` (the pattern may match)."""
    for group in groups:
        for t in group:
            if (t in low) if isinstance(t, str) else (t.search(low) is not None):
                break
        else:
            return False
    return True


def _may_inject(text: str) -> bool:
    """False only when no injection pattern can match ``text`` (trigger-word pre-filter)."""
    if not text.isascii() and _FOLD_SPECIAL.search(text):
        return True
    low = text.lower()
    first = _first_words(low)
    return bool(first) and any(
        not first.isdisjoint(head) and _triggered(low, rest) for _, head, rest in _INJECTION_EACH
    )


def _has_zero_width(s: str) -> bool:
    return not s.isascii() and _ZERO_WIDTH.search(s) is not None  # ASCII text cannot hold one


def screen_text(text: str, html: str | None = None) -> list[str]:
    """Screen cleaned text (and optionally its source HTML); returns the flags found, sorted."""
    flags: set[str] = set()
    text = text or ""
    if find_injection(text) or (html and _html_may_inject(html) and find_injection(_visible_or_all_text(html))):
        flags.add(PROMPT_INJECTION)
    if _has_zero_width(text) or (html and (_has_zero_width(html) or _hidden_html(html))):
        flags.add(HIDDEN_TEXT)
    return sorted(flags)


def _html_may_inject(html: str) -> bool:
    """Cheap pre-check before parsing ``html`` for injection phrases.

    The parsed text is made of raw text runs (script, style) and entity-decoded
    runs, so every trigger word it can contain occurs in the raw markup or in
    its entity-decoded form; when neither has one, parsing cannot find a match.
    """
    if _may_inject(html):
        return True
    return "&" in html and _may_inject(_html.unescape(html))


def _visible_or_all_text(html: str) -> str:
    """All text of the HTML including hidden parts: an injection hidden from the reader still counts."""
    try:
        from selectolax.lexbor import LexborHTMLParser as HTMLParser

        tree = HTMLParser(html)
        return tree.body.text(separator="\n") if tree.body else tree.text(separator="\n")
    except Exception:  # noqa: BLE001 - screening must never break collection
        return re.sub(r"<[^>]+>", " ", html)


def screen_record(record: "ItemRecord") -> list[str]:
    """Screen a collected record (title, text, raw and cleaned HTML); merges into and returns ``record.flags``."""
    html = "\n".join(h for h in (record.raw_html, record.content_html) if h) or None
    found = screen_text(f"{record.title}\n{record.text}", html)
    merged = sorted(set(record.flags) | set(found))
    record.flags = merged
    return merged
