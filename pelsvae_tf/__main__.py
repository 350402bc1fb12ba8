"""``python -m pelsvae_tf`` runs the ``pelsvae`` command line."""

import sys

from pelsvae_tf.cli.main import main

sys.exit(main())
