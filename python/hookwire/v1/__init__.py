# The code generated from proto/hookwire/v1 by scripts/gen-examples.sh (grpcio-tools): *_pb2.py
# (messages, with .pyi type stubs) and *_pb2_grpc.py (the WebhookService stub).
