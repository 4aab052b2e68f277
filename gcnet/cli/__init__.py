"""Command-line tools: thin absl mains over the library (flags are defined only when a tool runs).

    python -m gcnet.cli.train --config=experiments/fashion_mnist_gc.py --workdir=runs/fmnist_gc
    python -m gcnet.cli.predict --workdir=RUN --inputs=FILE_OR_DIR --output=OUT.jsonl
    python -m gcnet.cli.codec --workdir=RUN --input=IN.wav --output=OUT.wav
    python -m gcnet.cli.export --workdir=RUN --output=DIR
    python -m gcnet.cli.sweep_theta --workdir=RUN
    python -m gcnet.cli.codec_report --workdir=RUN
    python -m gcnet.cli.make_stream --recordings=DIR --output=STREAM.wav
"""
