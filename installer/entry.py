"""The bundle's entry point: what the `hullwatch` console script does, frozen.

Until app/cli.py has its own `--self-test` flag, the flag is handled here; once the CLI
knows it, the CLI handles it and this stays a plain hand-over.
"""
import multiprocessing
import sys


def _cli_knows_self_test() -> bool:
    from app.cli import build_parser

    _, unknown = build_parser().parse_known_args(["--self-test"])
    return not unknown


def main() -> int:
    multiprocessing.freeze_support()  # harmless unless something starts a process pool
    if "--self-test" in sys.argv[1:] and not _cli_knows_self_test():
        from app.self_test import run_self_test

        return run_self_test()
    from app.cli import main as cli_main

    return cli_main()


if __name__ == "__main__":
    sys.exit(main())
