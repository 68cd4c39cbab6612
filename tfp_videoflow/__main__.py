"""`python -m tfp_videoflow` runs the `videoflow` command line."""

import sys

from tfp_videoflow import cli

sys.exit(cli.main())
