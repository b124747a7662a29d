"""The `specbias` console command; each layer contributes its own subcommands."""
from __future__ import annotations

import argparse
import sys

from theory.errors import SpecbiasError


def build_parser() -> argparse.ArgumentParser:
    from numerics import cli as numerics_cli
    from theory import cli as theory_cli

    from . import bench, commands

    parser = argparse.ArgumentParser(prog="specbias", description="Verify the analytical theory of "
                                     "spectral bias in the learning dynamics of diffusion models.")
    sub = parser.add_subparsers(dest="command", required=True)
    for module in (theory_cli, numerics_cli, commands, bench):
        module.add_parsers(sub)
    return parser


def main(argv=None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except SpecbiasError as exc:
        print(f"specbias: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("specbias: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
