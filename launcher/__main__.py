import sys

from launcher.supervisor import main

sys.exit(main())
