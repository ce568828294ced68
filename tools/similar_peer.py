"""The peer of `lightbox-benchmark similar`: faiss-cpu's exact inner-product index (IndexFlatIP)
on the same unit vectors and queries, timed one query at a time as the reviewer asks.

Usage: python tools/similar_peer.py VECTORS.f32 QUERIES.f32 DIMENSION
Prints median_ms=…, p95_ms=… and the top-5 rows of every query (for the agreement check).
Needs numpy and faiss-cpu (make bench installs them in the reference environment).
"""
import sys
import time

import faiss
import numpy as np


def main():
    vectors_path, queries_path, dimension = sys.argv[1], sys.argv[2], int(sys.argv[3])
    vectors = np.fromfile(vectors_path, dtype=np.float32).reshape(-1, dimension)
    queries = np.fromfile(queries_path, dtype=np.float32).reshape(-1, dimension)
    faiss.omp_set_num_threads(1)
    index = faiss.IndexFlatIP(dimension)
    index.add(vectors)
    times, rows = [], []
    for query in queries:
        start = time.perf_counter()
        _, found = index.search(query[None, :], 5)
        times.append((time.perf_counter() - start) * 1000)
        rows.append(found[0].tolist())
    times.sort()
    print(f"median_ms={times[len(times) // 2]:.4f}")
    print(f"p95_ms={times[int(len(times) * 0.95)]:.4f}")
    for found in rows:
        print("top5=" + ",".join(str(r) for r in found))


if __name__ == "__main__":
    main()
