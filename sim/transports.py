"""Byte transports for the simulated vehicle: a BlueOS-style UDP endpoint and a
SITL-style TCP server. Each runs one I/O thread; faults apply per packet both ways.

A transport knows nothing about the vehicle: it hands decoded messages to
``on_message(msg, peer)`` and sends bytes given to ``Peer.send``.
"""
from __future__ import annotations

import errno
import heapq
import itertools
import select
import socket
import threading
import time
from typing import Callable

from pymavlink.dialects.v20 import ardupilotmega as mavlink

from sim.faults import FaultInjector

SELECT_TIMEOUT_S = 0.01  # also the resolution of injected delays
RECV_SIZE = 65535
MAX_UDP_PEERS = 8
MAX_TCP_CLIENTS = 8
TCP_SEND_TIMEOUT_S = 0.2
MAX_DATAGRAMS_PER_WAKE = 256  # bounds a flood so delayed sends still go out


class PortInUseError(OSError):
    """The requested port is taken by another process."""

    def __init__(self, kind: str, port: int) -> None:
        super().__init__(errno.EADDRINUSE, f"{kind} port {port} is already in use")
        self.kind = kind
        self.port = port


class LinkStats:
    """Counters for one transport; read under the GIL, so no lock is needed."""

    def __init__(self) -> None:
        self.rx_bytes = 0
        self.rx_messages = 0
        self.rx_bad = 0
        self.rx_dropped = 0
        self.tx_packets = 0
        self.tx_dropped = 0

    def as_dict(self) -> dict[str, int]:
        return dict(vars(self))


def _new_parser() -> mavlink.MAVLink:
    parser = mavlink.MAVLink(None)
    parser.robust_parsing = True
    return parser


class Peer:
    """One remote end: a UDP address or a TCP client."""

    def __init__(self, transport: "_Transport", key: object, name: str) -> None:
        self.transport = transport
        self.key = key
        self.name = name
        self.parser = _new_parser()

    def send(self, packet: bytes) -> None:
        self.transport.send_to(self, packet)


MessageHandler = Callable[[object, Peer], None]


class _Transport:
    def __init__(self, faults: FaultInjector, on_message: MessageHandler, name: str) -> None:
        self.faults = faults
        self.on_message = on_message
        self.stats = LinkStats()
        self._name = name
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._timer_lock = threading.Lock()
        self._timers: list[tuple[float, int, Callable[[], None]]] = []
        self._timer_seq = itertools.count()

    # -- lifecycle -------------------------------------------------------
    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name=self._name, daemon=True)
        self._thread.start()

    def stop(self, timeout_s: float = 2.0) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout_s)
        self._close()

    def peers(self) -> list[Peer]:
        raise NotImplementedError

    def broadcast(self, packet: bytes) -> None:
        for peer in self.peers():
            self.send_to(peer, packet)

    # -- outbound ----------------------------------------------------------
    def send_to(self, peer: Peer, packet: bytes) -> None:
        copies = self.faults.apply(packet)
        if not copies:
            self.stats.tx_dropped += 1
        for delay_s, data in copies:
            if delay_s > 0.0:
                self._schedule(delay_s, lambda d=data: self._raw_send(peer, d))
            else:
                self._raw_send(peer, data)

    def _raw_send(self, peer: Peer, data: bytes) -> None:
        raise NotImplementedError

    # -- inbound -----------------------------------------------------------
    def _feed(self, peer: Peer, data: bytes, datagram: bool = False) -> None:
        self.stats.rx_bytes += len(data)
        if datagram:
            # MAVLink never spans UDP datagrams: a half packet left by a garbage datagram
            # must not swallow the next good one
            parser = peer.parser
            parser.buf = bytearray()
            parser.buf_index = 0
            parser.expected_length = mavlink.HEADER_LEN_V1 + 2
        try:
            messages = peer.parser.parse_buffer(data) or []
        except Exception:  # a hostile byte stream must never kill the I/O thread
            self.stats.rx_bad += 1
            peer.parser = _new_parser()
            return
        for msg in messages:
            if msg.get_type() == "BAD_DATA":
                self.stats.rx_bad += 1
                continue
            raw = bytes(msg.get_msgbuf())
            copies = self.faults.apply(raw)
            if not copies:
                self.stats.rx_dropped += 1
                continue
            for delay_s, data_out in copies:
                if data_out != raw:
                    # corrupted in flight: the CRC check would have rejected it
                    self.stats.rx_bad += 1
                    continue
                if delay_s > 0.0:
                    self._schedule(delay_s, lambda m=msg: self._deliver(m, peer))
                else:
                    self._deliver(msg, peer)

    def _deliver(self, msg: object, peer: Peer) -> None:
        self.stats.rx_messages += 1
        try:
            self.on_message(msg, peer)
        except Exception:  # noqa: BLE001 - a handler bug must not stop the link
            import traceback

            traceback.print_exc()

    # -- timers for injected delay -----------------------------------------
    def _schedule(self, delay_s: float, action: Callable[[], None]) -> None:
        with self._timer_lock:
            heapq.heappush(self._timers, (time.monotonic() + delay_s, next(self._timer_seq), action))

    def _run_due_timers(self) -> None:
        now = time.monotonic()
        while True:
            with self._timer_lock:
                if not self._timers or self._timers[0][0] > now:
                    return
                _, _, action = heapq.heappop(self._timers)
            try:
                action()
            except OSError:
                pass

    def _run(self) -> None:
        raise NotImplementedError

    def _close(self) -> None:
        raise NotImplementedError


class UdpTransport(_Transport):
    """Bound UDP socket that sends to a fixed target and answers whoever talks to it."""

    def __init__(self, bind: tuple[str, int], target: tuple[str, int] | None,
                 faults: FaultInjector, on_message: MessageHandler) -> None:
        super().__init__(faults, on_message, "sim-udp")
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        try:
            self._sock.bind(bind)
        except OSError as exc:
            self._sock.close()
            if exc.errno == errno.EADDRINUSE:
                raise PortInUseError("UDP", bind[1]) from exc
            raise
        self._sock.setblocking(False)
        self.address: tuple[str, int] = self._sock.getsockname()
        self._peers: dict[tuple[str, int], Peer] = {}
        self._peers_lock = threading.Lock()
        if target is not None:
            self._peer_for(tuple(target))

    def _peer_for(self, addr: tuple[str, int]) -> Peer:
        with self._peers_lock:
            peer = self._peers.get(addr)
            if peer is None:
                if len(self._peers) >= MAX_UDP_PEERS:
                    self._peers.pop(next(iter(self._peers)))
                peer = Peer(self, addr, f"udp:{addr[0]}:{addr[1]}")
                self._peers[addr] = peer
            return peer

    def peers(self) -> list[Peer]:
        with self._peers_lock:
            return list(self._peers.values())

    def _raw_send(self, peer: Peer, data: bytes) -> None:
        try:
            self._sock.sendto(data, peer.key)
            self.stats.tx_packets += 1
        except OSError:
            # nobody listening yet (ICMP refused) or buffer full: a UDP link just loses it
            self.stats.tx_dropped += 1

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                readable, _, _ = select.select([self._sock], [], [], SELECT_TIMEOUT_S)
            except (OSError, ValueError):
                break
            if readable:
                for _ in range(MAX_DATAGRAMS_PER_WAKE):
                    try:
                        data, addr = self._sock.recvfrom(RECV_SIZE)
                    except BlockingIOError:
                        break
                    except OSError:
                        # Linux reports an earlier ICMP port-unreachable here; ignore it
                        break
                    self._feed(self._peer_for(addr), data, datagram=True)
            self._run_due_timers()

    def _close(self) -> None:
        try:
            self._sock.close()
        except OSError:
            pass


class TcpServerTransport(_Transport):
    """TCP server like SITL's port 5760; several clients may connect."""

    def __init__(self, host: str, port: int, faults: FaultInjector,
                 on_message: MessageHandler) -> None:
        super().__init__(faults, on_message, "sim-tcp")
        self._server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            self._server.bind((host, port))
        except OSError as exc:
            self._server.close()
            if exc.errno == errno.EADDRINUSE:
                raise PortInUseError("TCP", port) from exc
            raise
        self._server.listen(MAX_TCP_CLIENTS)
        self._server.setblocking(False)
        self.port: int = self._server.getsockname()[1]
        self._clients: dict[socket.socket, Peer] = {}
        self._clients_lock = threading.Lock()
        self._send_locks: dict[socket.socket, threading.Lock] = {}

    def peers(self) -> list[Peer]:
        with self._clients_lock:
            return list(self._clients.values())

    def _raw_send(self, peer: Peer, data: bytes) -> None:
        sock: socket.socket = peer.key
        lock = self._send_locks.get(sock)
        if lock is None:
            return
        with lock:
            try:
                sock.sendall(data)
                self.stats.tx_packets += 1
            except (socket.timeout, BlockingIOError):
                # a client that does not read loses data instead of stalling the vehicle
                self.stats.tx_dropped += 1
            except OSError:
                self._drop_client(sock)

    def _drop_client(self, sock: socket.socket) -> None:
        with self._clients_lock:
            self._clients.pop(sock, None)
            self._send_locks.pop(sock, None)
        try:
            sock.close()
        except OSError:
            pass

    def _accept(self) -> None:
        try:
            conn, addr = self._server.accept()
        except OSError:
            return
        with self._clients_lock:
            if len(self._clients) >= MAX_TCP_CLIENTS:
                conn.close()
                return
            conn.settimeout(TCP_SEND_TIMEOUT_S)
            conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            self._clients[conn] = Peer(self, conn, f"tcp:{addr[0]}:{addr[1]}")
            self._send_locks[conn] = threading.Lock()

    def _run(self) -> None:
        while not self._stop.is_set():
            with self._clients_lock:
                socks = [self._server, *self._clients]
            try:
                readable, _, _ = select.select(socks, [], [], SELECT_TIMEOUT_S)
            except (OSError, ValueError):
                # a client socket closed under us: rebuild the list next turn
                self._prune_closed()
                continue
            for sock in readable:
                if sock is self._server:
                    self._accept()
                    continue
                try:
                    data = sock.recv(RECV_SIZE)
                except (socket.timeout, BlockingIOError):
                    continue
                except OSError:
                    data = b""
                if not data:
                    self._drop_client(sock)
                    continue
                with self._clients_lock:
                    peer = self._clients.get(sock)
                if peer is not None:
                    self._feed(peer, data)
            self._run_due_timers()

    def _prune_closed(self) -> None:
        with self._clients_lock:
            closed = [s for s in self._clients if s.fileno() < 0]
        for sock in closed:
            self._drop_client(sock)

    def _close(self) -> None:
        with self._clients_lock:
            clients = list(self._clients)
        for sock in clients:
            self._drop_client(sock)
        try:
            self._server.close()
        except OSError:
            pass
