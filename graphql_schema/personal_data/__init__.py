"""Personal data: ``exportMyData`` and ``myDataExports``, and ``eraseUser``."""
