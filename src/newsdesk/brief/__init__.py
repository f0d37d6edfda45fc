"""The morning briefing.

``build.build_briefing`` turns stored items into one briefing dict (schema:
``newsdesk/schemas/briefing.schema.json``), using ``sentences`` (splitting),
``summarize`` (grounded extractive summaries), ``cluster`` (de-duplication and
same-event clustering), ``topics`` (rising topics) and ``weather`` (structured
weather). ``run.run_brief`` is the whole job (fetch, build, archive, write,
index) shared by ``newsdesk brief``, ``newsdesk demo`` and the web app's scheduler.
"""
