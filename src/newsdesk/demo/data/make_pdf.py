"""Generate the demo PDF report ``docs/valley-broadband-gap-report-2024.pdf`` with fpdf2.

The report is fictional and written for the newsdesk demo (the Ask feature
indexes it). Run from anywhere::

    python src/newsdesk/demo/data/make_pdf.py

fpdf2 is a test/dev dependency only; the generated PDF is committed so the
demo and the tests never need it at run time.
"""

from __future__ import annotations

from pathlib import Path

from fpdf import FPDF

OUT = Path(__file__).resolve().parent / "docs" / "valley-broadband-gap-report-2024.pdf"

TITLE = "Upper Ottawa Valley Broadband Gap Report 2024"

PAGES: list[tuple[str, list[str]]] = [
    (
        "1. Summary",
        [
            "This report, prepared by the Upper Ottawa Valley Connectivity Office in May 2024, measures "
            "how many households can buy internet service at the national target speed of 50 Mbps "
            "download and 10 Mbps upload (50/10).",
            "Across the study area of 11 municipalities, 71.3% of households had access to 50/10 service "
            "at the end of 2023, up from 58.9% at the end of 2021. That leaves about 9,400 households "
            "below the target.",
            "The gap is widest in Whitewater Region, where 38% of households lacked 50/10 service, and "
            "narrowest in the City of Pembroke, where the figure was 3%.",
            "We recommend three actions: (1) fund fibre to the 2,100 households closest to existing "
            "backbone routes first; (2) use fixed wireless for the 1,650 most remote households; and "
            "(3) publish availability maps every six months.",
        ],
    ),
    (
        "2. Method and data",
        [
            "Availability was measured at the level of individual civic addresses, not census areas. "
            "Providers submitted coverage files in January 2024; the Office verified a random sample of "
            "600 addresses with speed tests taken at the household router.",
            "Of the 600 sampled addresses, 91 (15.2%) had been reported as covered but could not get "
            "50/10 service in practice. Coverage figures in this report are corrected for that error rate.",
            "Median measured download speed among covered households was 112 Mbps; the median among "
            "households below the target was 9.6 Mbps.",
            "Limitations: the survey did not measure price, and seasonal residences (about 1,300 "
            "cottages) were excluded.",
        ],
    ),
    (
        "3. Costs and timeline",
        [
            "The Office estimates the cost of closing the gap at $61 million: $44 million for fibre and "
            "$17 million for fixed wireless towers and equipment.",
            "At the current pace of about 2,500 newly served households a year, the gap would close in "
            "2027. With the recommended funding, the Office expects full 50/10 coverage by the end of 2026.",
            "Contact: Connectivity Office, 400 Pembroke Street East (fictional address). This document "
            "is demo data written for the newsdesk project.",
        ],
    ),
]

TABLE = [
    ("Municipality", "Households", "Below 50/10 (2023)"),
    ("City of Pembroke", "7,900", "3%"),
    ("Petawawa", "7,100", "6%"),
    ("Whitewater Region", "3,200", "38%"),
    ("Laurentian Valley", "3,600", "29%"),
    ("North Algona Wilberforce", "1,300", "34%"),
]


def build(out: Path = OUT) -> Path:
    """Write the PDF and return its path."""
    pdf = FPDF(format="Letter")
    pdf.set_title(TITLE)
    pdf.set_author("Upper Ottawa Valley Connectivity Office (fictional)")
    pdf.set_creation_date(__import__("datetime").datetime(2024, 5, 15))
    for i, (heading, paras) in enumerate(PAGES):
        pdf.add_page()
        if i == 0:
            pdf.set_font("Helvetica", "B", 16)
            pdf.multi_cell(0, 9, TITLE)
            pdf.ln(4)
        pdf.set_font("Helvetica", "B", 13)
        pdf.multi_cell(0, 8, heading)
        pdf.ln(2)
        pdf.set_font("Helvetica", "", 11)
        for p in paras:
            pdf.multi_cell(0, 6, p)
            pdf.ln(3)
        if i == 1:
            pdf.set_font("Helvetica", "B", 11)
            pdf.multi_cell(0, 6, "Table 1. Households below the 50/10 target by municipality, end of 2023")
            pdf.set_font("Helvetica", "", 10)
            with pdf.table(col_widths=(60, 40, 50)) as table:
                for row in TABLE:
                    r = table.row()
                    for cell in row:
                        r.cell(cell)
    out.parent.mkdir(parents=True, exist_ok=True)
    pdf.output(str(out))
    return out


if __name__ == "__main__":
    print(build())
