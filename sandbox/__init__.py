"""A local stand-in for WhatsApp Cloud API, Messenger, Instagram Messaging and Twilio SMS.

Used in dev, demo, tests and benchmarks; never in production. Start it with
`start_sandbox(config)` (in-process) or `python -m sandbox` (from the environment).
"""

from sandbox.config import Identity, Person, SandboxConfig
from sandbox.server import RunningSandbox, start_sandbox

__all__ = ["Identity", "Person", "RunningSandbox", "SandboxConfig", "start_sandbox"]
