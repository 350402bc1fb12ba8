"""``python -m pelsvae_tf`` runs the ``pelsvae`` command line."""

import sys

from pelsvae_tf.cli import main

sys.exit(main())
