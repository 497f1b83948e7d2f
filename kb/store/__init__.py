"""The Chroma store: chunks and article records, written by a crash-safe protocol.

``store`` (``Store``: reads, the write protocol, rebuild), ``client`` (opening Chroma, embedded
or served), ``records`` (what a stored chunk and article hold), ``faults`` (named kill points
for the crash tests), ``duplicates`` (near-copy signatures), ``integrity`` (``kb check``).
"""
