import sys

from edgeaudit.cli import main

sys.exit(main())
