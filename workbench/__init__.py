"""OCR Workbench's Streamlit app over the ``ocr`` package.

``app.py`` is the frame and router; ``pages/`` holds the four page files and nothing else; beside them,
one module per job: ``keys`` (every session-state and widget key), ``url`` (the settings and the link),
``files`` (open files and each session's decoded pages), ``preview`` (the cached pictures), ``engine``
(Tesseract's lifetime), ``history`` (results and the typed run record), ``controls`` (the Tune page's
controls, made from the settings' specs), ``layout`` (shared pieces of layout), ``nav`` (the pages) and
``launch`` (the ``ocr-workbench`` command).
"""
