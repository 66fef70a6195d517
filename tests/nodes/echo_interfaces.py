"""A test peer: echoes every ros_pointlang message and answers AskCloud, in its own process.

Receives on `echo_in/<Type>` and republishes the same message on `echo_out/<Type>`; the
service `ask` answers "you asked: <question>" about object <object_id>.
"""

import rclpy
from rclpy.executors import ExternalShutdownException
from rclpy.node import Node

from ros_pointlang import msg, srv

MESSAGE_TYPES = [
    msg.LabelScore,
    msg.CloudLabels,
    msg.CloudCaption,
    msg.DescribedObject,
    msg.DescribedObjectArray,
]


class EchoInterfaces(Node):
    def __init__(self) -> None:
        super().__init__("echo_interfaces")
        self._keep = []
        for kind in MESSAGE_TYPES:
            out = self.create_publisher(kind, f"echo_out/{kind.__name__}", 10)
            sub = self.create_subscription(kind, f"echo_in/{kind.__name__}", out.publish, 10)
            self._keep += [out, sub]
        self.create_service(srv.AskCloud, "ask", self._ask)

    def _ask(self, request: srv.AskCloud.Request, response: srv.AskCloud.Response):
        response.success = True
        response.answer = f"you asked: {request.question}"
        response.confidence = 0.5
        response.cloud_stamp.sec = int(request.object_id)
        response.message = f"object {request.object_id}"
        return response


def main() -> None:
    rclpy.init()
    node = EchoInterfaces()
    print("echo_interfaces ready", flush=True)
    try:
        rclpy.spin(node)
    except (KeyboardInterrupt, ExternalShutdownException):
        pass
    finally:
        node.destroy_node()
        rclpy.try_shutdown()


if __name__ == "__main__":
    main()
