"""The chat page (``rag chat``): a Gradio app over :mod:`rag` and :mod:`index`.

``ui.render`` turns answers, sources and articles into escaped HTML (pure functions); ``ui.app``
lays out the page and serves it (:func:`ui.app.launch`); ``ui.uploads`` saves uploaded articles
under the names they were uploaded with, unique in the store. No retrieval or answering happens here.
"""
