import sys

from adcbridge.cli import main

sys.exit(main())
