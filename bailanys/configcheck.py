"""The files a configuration names, checked as the engine would load them.

``bailanys config check`` validates the main TOML (``bailanys.config``) and
then, with :func:`check_files`, every file it points to, as the engine would:

* ``queue.file``: the queues and agents (``bailanys.queue.settings``); a
  file that does not exist is an error, since the engine would start a
  contact centre with no operators.  ``queue.file = ""`` says on purpose
  "no queues" (queue nodes of the flows then take their fallback);
* ``ivr.flow_dir``: every flow file (``bailanys.ivr.registry``), and each
  flow's ``queue`` nodes against the queues file;
* ``robot.faq``: the voice assistant's FAQ (``bailanys.robot.faq``), unless
  empty;
* ``qa.scorecard_dir``: every QA scorecard (``bailanys.qa.scorecard``, as
  ``bailanys qa check`` reads them), when ``qa.enabled``;
* ``reports.topics``: the topic classifier (``bailanys.reports.topics``),
  when the file is there, and every FAQ entry's and menu option's ``topic``
  against it (issue 17);
* ``[console.users]`` of role ``operator``: each login an agent of
  ``queue.file`` (issue 19: an operator logs in as its phone's SIP user);
* ``[monitor.phones]``: each login a supervisor or admin of
  ``[console.users]``, each phone a SIP user of ``[registrar.users]`` (issue 21);
* ``cases.file`` and ``cases.calendar_dir``: the requests' routing table
  and working-day calendar (``bailanys.cases.rules``), when ``cases.enabled``;
* ``console.tls_cert`` and ``console.tls_key``: readable PEM files, the key
  matching the certificate, not expired (``bailanys.web.tls``);
* ``media.rtp_host``: an address of this machine, since RTP sockets are
  bound to it (a public address that a NAT maps to this machine is not:
  an SBC or Kamailio in front owns that one).

Each problem is one line ``file[:line]: key: message`` like the loaders'.
Blocking file I/O: call it from a thread when an event loop runs.
"""

from __future__ import annotations

from pathlib import Path

from bailanys.config import Config
from bailanys.errors import ConfigError

__all__ = ["check_files", "missing_file", "missing_queue_file"]


def missing_queue_file(config: Config) -> ConfigError | None:
    """The error for a ``queue.file`` that names no file; None when it is fine or empty."""
    return missing_file(config.queue.file, config.source or "<defaults>")


def missing_file(name: str, source: str) -> ConfigError | None:
    """:func:`missing_queue_file` from the key's value and the config file's name."""
    if not name or Path(name).is_file():
        return None
    return ConfigError(
        f"no such file: {name} (write queue.file = \"\" to run without queues)",
        path=source,
        key="queue.file",
    )


def check_files(config: Config) -> list[str]:
    """Every problem in the queues file, the flows, the FAQ and the
    scorecards; [] when all is well."""
    problems, queues = _queue_problems(config)
    problems += _operator_problems(config)
    problems += _flow_problems(config, queues)
    problems += _faq_problems(config)
    problems += _scorecard_problems(config)
    problems += _topic_problems(config)
    problems += _cases_problems(config)
    problems += _monitor_problems(config)
    problems += _tls_problems(config)
    problems += _rtp_host_problems(config)
    return problems


def _monitor_problems(config: Config) -> list[str]:
    """``[monitor.phones]`` (issue 21): a supervisor's or admin's login, a known SIP user."""
    from bailanys.monitor.settings import monitor_problems

    return monitor_problems(config.monitor, config.console.users, config.registrar.users,
                            config.source or "<defaults>")


def _tls_problems(config: Config) -> list[str]:
    """``[console] tls_cert`` and ``tls_key``, when the console serves HTTPS."""
    from bailanys.web.tls import TlsFiles, problems

    console = config.console
    if not console.listen or not console.tls:
        return []
    return problems(TlsFiles(console.tls_cert, console.tls_key, config.source or "<defaults>"))


def _rtp_host_problems(config: Config) -> list[str]:
    """``media.rtp_host``, when set, must be bindable: RTP sockets are bound to it."""
    import socket

    host = config.media.rtp_host
    if not host:
        return []
    where = config.source or "<defaults>"
    try:
        info = socket.getaddrinfo(host, 0, type=socket.SOCK_DGRAM)
        with socket.socket(info[0][0], socket.SOCK_DGRAM) as probe:
            probe.bind(info[0][4])
    except OSError as exc:
        return [f"{where}: media.rtp_host: cannot bind RTP to {host} ({exc.strerror or exc}): "
                "expected an address of this machine, the one the trunk or SBC sends RTP to"]
    return []


def _cases_problems(config: Config) -> list[str]:
    """``cases.file`` and ``cases.calendar_dir`` (issue 19), when ``cases.enabled``."""
    from bailanys.cases.rules import problems

    return problems(config)


def _operator_problems(config: Config) -> list[str]:
    """``[console.users]`` of role operator against the agents of ``queue.file``
    (issue 19: the operator's login is its phone's SIP user)."""
    from bailanys.desk.settings import operator_problems
    from bailanys.queue.settings import load_queue_config

    agents: set[str] = set()
    if config.queue.file:
        if missing_queue_file(config) is not None:
            return []  # the missing file is reported by _queue_problems
        try:
            agents = set(load_queue_config(Path(config.queue.file)).agents)
        except ConfigError:
            return []  # so is a broken one
    return operator_problems(config.console.users, agents, config.source or "<defaults>",
                             config.queue.file)


def _topic_problems(config: Config) -> list[str]:
    """``reports.topics``: the classifier itself, then the FAQ entries' and the
    flows' menu options' topics against it (issue 17). No file: no check."""
    from bailanys.ivr.registry import load_dir
    from bailanys.reports.topics import for_check, unknown_topics
    from bailanys.robot.faq import load

    topics, own = for_check(config.reports.topics)
    out = [str(p) for p in own]
    if topics is None:
        return out
    used: list[tuple[str, int, str, str]] = []
    if config.robot.faq and Path(config.robot.faq).is_file():
        used += load(config.robot.faq)[0].topic_uses()
    if Path(config.ivr.flow_dir).is_dir():
        for flow in load_dir(Path(config.ivr.flow_dir)).flows.values():
            used += flow.topic_uses()
    return out + [str(p) for p in unknown_topics(topics, used)]


def _queue_problems(config: Config) -> tuple[list[str], set[str] | None]:
    """Problems of the queues file, and its queue names (None: no cross-check)."""
    from bailanys.queue.settings import load_queue_config

    if not config.queue.file:
        return [], None  # no queues on purpose: queue nodes take their fallback
    missing = missing_queue_file(config)
    if missing is not None:
        return [str(missing)], None
    try:
        loaded = load_queue_config(Path(config.queue.file))
    except ConfigError as exc:
        return [str(exc)], None
    return [], set(loaded.queues)


def _flow_problems(config: Config, queues: set[str] | None) -> list[str]:
    from bailanys.ivr.model import QueueNode
    from bailanys.ivr.registry import load_dir

    directory = Path(config.ivr.flow_dir)
    if not directory.is_dir():
        where = config.source or "<defaults>"
        return [f"{where}: ivr.flow_dir: no such directory: {directory}"]
    flows = load_dir(directory)
    out = [str(p) for p in flows.problems]
    if queues is None:
        return out  # no queues on purpose, or the file has its own problem
    for flow in flows.flows.values():
        for node_id, node in flow.nodes.items():
            if isinstance(node, QueueNode) and node.queue not in queues:
                known = ", ".join(sorted(queues)) or "none"
                out.append(f"{flow.file}: nodes.{node_id}.queue: no queue {node.queue!r} in "
                           f"queue.file {config.queue.file or '(empty)'} (queues: {known})")
    return out


def _faq_problems(config: Config) -> list[str]:
    from bailanys.robot.faq import load

    if not config.robot.faq:
        return []
    _, problems = load(config.robot.faq)
    return [str(p) for p in problems]


def _scorecard_problems(config: Config) -> list[str]:
    from bailanys.qa.scorecard import load_dir

    if not config.qa.enabled:
        return []
    directory = Path(config.qa.scorecard_dir)
    if not directory.is_dir():
        where = config.source or "<defaults>"
        return [f"{where}: qa.scorecard_dir: no such directory: {directory}"]
    _, problems = load_dir(directory)
    return [str(p) for p in problems]
