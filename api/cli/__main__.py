"""`python -m samsok.api.cli …`: the same as the `samsok` script."""

from samsok.api.cli import main

main()
