"""Safe transits between legs. A straight line from a port-side station to a starboard one
would run through the hull; instead the vehicle goes the shortest way through poses the
plan already knows are safe (every lane pose sits at the standoff), linked where the
straight hop between them keeps clear of the hull and inside the safety limits."""
from __future__ import annotations

import numpy as np

LINK_RADIUS_M = 3.0
CHECK_STEP_M = 0.5


class TransitRouter:
    def __init__(self, queries, limits, standoff_m: float, nodes_h: np.ndarray):
        self.queries = queries
        self.limits = limits
        self.clearance_m = 0.5 * standoff_m
        self.nodes = np.asarray(nodes_h, dtype=float)
        self._graph = None

    def segment_safe(self, a: np.ndarray, b: np.ndarray) -> bool:
        n = max(2, int(np.ceil(np.linalg.norm(b - a) / CHECK_STEP_M)) + 1)
        pts = a + np.linspace(0.0, 1.0, n)[:, None] * (b - a)
        if n > 2 and not self.limits.allowed(pts[1:-1]).all():
            return False
        return bool((self.queries.signed_distance(pts) >= self.clearance_m).all())

    def _build(self):
        from scipy.sparse import coo_matrix
        from scipy.spatial import cKDTree

        pairs = cKDTree(self.nodes).query_pairs(LINK_RADIUS_M, output_type="ndarray")
        a, b = self.nodes[pairs[:, 0]], self.nodes[pairs[:, 1]]
        # hops are short, so their midpoint stands for the whole hop
        mid = 0.5 * (a + b)
        ok = (self.queries.signed_distance(mid) >= self.clearance_m) & self.limits.allowed(mid)
        pairs = pairs[ok]
        w = np.linalg.norm(self.nodes[pairs[:, 0]] - self.nodes[pairs[:, 1]], axis=1)
        n = len(self.nodes)
        self._graph = coo_matrix((w, (pairs[:, 0], pairs[:, 1])), shape=(n, n)).tocsr()
        self._tree = cKDTree(self.nodes)

    def route(self, a: np.ndarray, b: np.ndarray) -> np.ndarray | None:
        """Intermediate points from a to b (empty when the straight line is safe), or None
        when no safe way is known."""
        a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
        if self.segment_safe(a, b):
            return np.zeros((0, 3))
        if self._graph is None:
            self._build()
        from scipy.sparse.csgraph import dijkstra

        ia = self._nearest_reachable(a)
        ib = self._nearest_reachable(b)
        if ia is None or ib is None:
            return None
        dist, pred = dijkstra(self._graph, directed=False, indices=ia, return_predecessors=True)
        if not np.isfinite(dist[ib]):
            return None
        path = [ib]
        while path[-1] != ia:
            path.append(pred[path[-1]])
        return self.nodes[path[::-1]]

    def _nearest_reachable(self, p: np.ndarray) -> int | None:
        _, idx = self._tree.query(p, k=min(16, len(self.nodes)))
        for i in np.atleast_1d(idx):
            if self.segment_safe(p, self.nodes[i]):
                return int(i)
        return None
