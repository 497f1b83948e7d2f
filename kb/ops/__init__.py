"""Operations around the product: ``evaluate`` (``kb eval``), ``feedback`` (answers rated in
the app), ``redact`` (secrets kept out of logs)."""
