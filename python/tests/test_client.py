"""connect() sends the API key with every call, on a cleartext channel, to an in-process server."""

import unittest
from concurrent import futures

import grpc

import hookwire
from hookwire.v1 import webhook_service_pb2 as pb, webhook_service_pb2_grpc


class _Signer(webhook_service_pb2_grpc.WebhookServiceServicer):
    """Answers Sign with the authorization metadata it received."""

    def Sign(self, request, context):
        seen = [v for k, v in context.invocation_metadata() if k == "authorization"]
        return pb.SignResponse(signature=",".join(seen))


class Connect(unittest.TestCase):
    def setUp(self):
        self.server = grpc.server(futures.ThreadPoolExecutor(max_workers=2))
        webhook_service_pb2_grpc.add_WebhookServiceServicer_to_server(_Signer(), self.server)
        self.port = self.server.add_insecure_port("127.0.0.1:0")
        self.server.start()

    def tearDown(self):
        self.server.stop(None)

    def test_every_call_carries_the_key(self):
        with hookwire.connect(f"127.0.0.1:{self.port}", "k_123") as client:
            for _ in range(2):
                self.assertEqual(client.Sign(pb.SignRequest(), timeout=10).signature, "Bearer k_123")
            # A caller's own authorization metadata does not add a second one.
            got = client.Sign(pb.SignRequest(), metadata=(("authorization", "Bearer other"),), timeout=10)
            self.assertEqual(got.signature, "Bearer k_123")


if __name__ == "__main__":
    unittest.main()
