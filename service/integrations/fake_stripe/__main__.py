import sys

from service.integrations.fake_stripe.cli import main

sys.exit(main())
