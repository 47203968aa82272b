import sys

from extranet_client.cli import main

sys.exit(main())
