"""Training the project's models, offline, from a clone: today the reader (:mod:`training.reader`,
``python -m training.reader``), which trains the cross-encoder that :mod:`rag.reader` runs from
its shipped ONNX file. It needs torch and the public data (``rag.public_data``); nothing at run
time imports it, and it measures what it trains with the evaluation in :mod:`evals.reader`."""
