"""The torch models: `encoder` (stage 1's point encoder), `captioner` (stage 2's bridge and
decoder around it) and `attention`, the multi-head attention both are built from."""
