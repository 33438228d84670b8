class RelayError(Exception):
    """A domain error whose message is safe to show to whoever caused it."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message
