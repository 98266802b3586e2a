import signal
import threading

from django.core.management.base import BaseCommand

from machines.connectivity import replay


class Command(BaseCommand):
    help = ("Serve a recorded MTConnect agent (machines/connectivity/recordings/<name>, or a folder) on a port, "
            "its timestamps shifted to now, looping: a live agent for the demo and for trying the collector.")

    def add_arguments(self, parser):
        parser.add_argument("--port", type=int, default=5000)
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--recording", default="okuma",
                            help="A recording's name (" + ", ".join(sorted(
                                p.name for p in replay.RECORDINGS.iterdir() if p.is_dir())) + ") or folder.")
        parser.add_argument("--speed", type=float, default=1.0, help="Playback speed (2 plays twice as fast).")
        parser.add_argument("--buffer-size", type=int, default=131_072, help="Observations the agent holds.")
        parser.add_argument("--instance-id", default=None, help="The agent's instanceId (default: a new one).")

    def handle(self, *args, port, host, recording, speed, buffer_size, instance_id, **options):
        agent = replay.ReplayAgent(
            replay.load(recording), host=host, port=port, instance_id=instance_id, buffer_size=buffer_size,
            realtime=True, speed=speed,
        ).start()
        stop = threading.Event()
        for signum in (signal.SIGTERM, signal.SIGINT):
            signal.signal(signum, lambda *_: stop.set())
        self.stdout.write(f"MTConnect replay of {recording!r} at {agent.url} (instanceId {agent.instance_id})")
        stop.wait()
        agent.stop()
