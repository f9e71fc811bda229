"""The PyTorch side of `cargo xtask bench embed`: sentence-transformers on the same weights.

Reads the JSON the `embed` bench wrote (the texts, paperboy's vectors and its rate), embeds the
same texts with all-MiniLM-L6-v2 in fp32 and under bf16 autocast (2 threads, batch 64, 256
tokens), and prints each rate, paperboy's ratio to it, and the cosine of paperboy's vectors
to PyTorch's fp32 ones.
"""

import json
import statistics
import sys
import time

import torch
from sentence_transformers import SentenceTransformer

ROUNDS = 3


def rate(model, texts, bf16):
    def once():
        start = time.perf_counter()
        if bf16:
            with torch.autocast("cpu", dtype=torch.bfloat16):
                vectors = model.encode(texts, batch_size=64, normalize_embeddings=True)
        else:
            vectors = model.encode(texts, batch_size=64, normalize_embeddings=True)
        return len(texts) / (time.perf_counter() - start), vectors

    runs = [once() for _ in range(ROUNDS)]
    return statistics.median(r for r, _ in runs), runs[0][1], [r for r, _ in runs]


def main():
    bench_json, model_dir = sys.argv[1], sys.argv[2]
    with open(bench_json) as f:
        bench = json.load(f)
    texts = bench["texts"]
    ours = torch.tensor(bench["vectors"], dtype=torch.float32)
    torch.set_num_threads(2)
    model = SentenceTransformer(model_dir, device="cpu")
    model.max_seq_length = 256
    fp32, fp32_vectors, fp32_runs = rate(model, texts, bf16=False)
    bf16, bf16_vectors, bf16_runs = rate(model, texts, bf16=True)
    reference = torch.nn.functional.normalize(torch.tensor(fp32_vectors, dtype=torch.float32), dim=1)
    cosines = (torch.nn.functional.normalize(ours, dim=1) * reference).sum(dim=1)
    bf16_cosines = (
        torch.nn.functional.normalize(torch.tensor(bf16_vectors, dtype=torch.float32), dim=1) * reference
    ).sum(dim=1)
    ours_rate = bench["rate"]
    print(f"| embedder | texts/s (median of {ROUNDS}) | runs | paperboy's ratio to it |")
    print("| --- | ---: | --- | ---: |")
    runs = ", ".join(f"{r:.1f}" for r in bench["runs"])
    print(f"| paperboy (ONNX Runtime, int8 products) | {ours_rate:.1f} | {runs} | 100% |")
    for name, value, runs in [("fp32", fp32, fp32_runs), ("bf16 autocast", bf16, bf16_runs)]:
        runs = ", ".join(f"{r:.1f}" for r in runs)
        print(f"| PyTorch {name} | {value:.1f} | {runs} | {100 * ours_rate / value:.0f}% |")
    print(
        f"\ncosine to PyTorch fp32: paperboy min {cosines.min():.5f} mean {cosines.mean():.5f}; "
        f"PyTorch bf16 min {bf16_cosines.min():.5f}"
    )
    print(
        f"paperboy / PyTorch bf16: {100 * ours_rate / bf16:.0f}% (target >= 50%): "
        + ("met" if ours_rate >= 0.5 * bf16 else "MISSED")
    )
    print(
        f"min cosine to fp32 {cosines.min():.5f} (target >= 0.99): "
        + ("met" if cosines.min() >= 0.99 else "MISSED")
    )


if __name__ == "__main__":
    main()
