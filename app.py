"""OCR Workbench's entry file for `streamlit run app.py` (Streamlit Community Cloud runs it); the app
itself is the package ``workbench`` (``ocr-workbench`` starts the same app once installed)."""

from workbench.app import main

if __name__ == "__main__":  # Streamlit runs this file as __main__; a spawned process that re-imports it does not
    main()
