"""Storing: an index folder of atomic generations -> loaded ``IndexData`` (vectors, BM25, records).

- ``generations``: write a generation to a temporary folder and swap it in; load and check it;
- ``vectors``: the chunk vectors behind one interface (FAISS flat or IVF);
- ``milvus``: the same interface on a Milvus collection (Lite or a server);
- ``keyword``: the BM25 index; ``verify``: the manifest, checksums and consistency checks.
"""
