# Code generated from proto/hookwire by scripts/gen-examples.sh.
