"""The BQ attention policy: set semantics (no positional encoding), imitation labels, decoding, training."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
import torch

from mdpkit import combinatorial as C
from mdpkit.combinatorial import neural as N
from mdpkit.errors import InvalidArgumentError


@pytest.fixture(autouse=True)
def _one_torch_thread():
    """Tiny models: one intra-op thread (several threads only contend on a loaded 2-core machine)."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def _tiny_policy(seed: int = 0) -> N.BQPolicy:
    torch.manual_seed(seed)
    return N.BQPolicy(d_model=16, n_layers=1, n_heads=2, d_ff=32).eval()


def _path_length(d: np.ndarray, path: list[int]) -> float:
    return float(sum(d[a, b] for a, b in zip(path[:-1], path[1:], strict=True)))


def test_policy_is_permutation_equivariant_over_unvisited_nodes():
    pol = _tiny_policy()
    rng = np.random.default_rng(0)
    coords = torch.as_tensor(rng.random((3, 9, 2)), dtype=torch.float32)
    cur, dest = torch.tensor([3, 1, 2]), torch.tensor([0, 0, 4])
    rem = torch.tensor([[1, 2, 5, 7], [3, 4, 6, 8], [0, 1, 3, 5]])
    perm = torch.tensor([2, 0, 3, 1])
    with torch.no_grad():
        a = pol(N.state_features(coords, cur, rem, dest))
        b = pol(N.state_features(coords, cur, rem[:, perm], dest))
    torch.testing.assert_close(a[:, perm], b, rtol=1e-5, atol=1e-5)


def test_suffix_batches_are_optimal_actions_of_bq_states():
    ds = N.make_dataset((6, 7), per_size=3, seed=1)
    rng = np.random.default_rng(2)
    for _ in range(10):
        coords, cur, rem, dest, label = N._suffix_batch(ds, 4, rng)
        for b in range(4):
            d = C.euclidean_distances(coords[b])
            rest = [int(v) for v in rem[b]]
            best = min(_path_length(d, [cur[b], *p, dest[b]]) for p in itertools.permutations(rest))
            nxt = rest[label[b]]
            others = [v for v in rest if v != nxt]
            via = min(_path_length(d, [cur[b], nxt, *p, dest[b]]) for p in itertools.permutations(others))
            assert via == pytest.approx(best, abs=1e-12)


def test_greedy_and_beam_decoding_return_valid_tours():
    pol = _tiny_policy(1)
    insts = [C.random_tsp(8, s) for s in range(3)]
    coords = np.array([i.coords for i in insts])
    lengths, tours = N.greedy_decode(pol, coords)
    for inst, length, tour in zip(insts, lengths, tours, strict=True):
        assert tour[0] == 0 and sorted(tour.tolist()) == list(range(8))
        assert C.tour_length(inst.dist, tour) == pytest.approx(length, abs=1e-9)
        assert length >= C.solve_tsp(inst.dist)[0] - 1e-9
    for inst, g in zip(insts, lengths, strict=True):
        b1, t1 = N.beam_decode(pol, inst.coords, beam=1)
        assert b1 == pytest.approx(g, abs=1e-9)  # beam 1 is greedy
        b8, t8 = N.beam_decode(pol, inst.coords, beam=8)
        assert sorted(t8.tolist()) == list(range(8)) and b8 >= C.solve_tsp(inst.dist)[0] - 1e-9
    assert N.greedy_decode(pol, np.zeros((1, 2)))[1].tolist() == [[0]]
    with pytest.raises(InvalidArgumentError, match="beam"):
        N.beam_decode(pol, insts[0].coords, beam=0)
    with pytest.raises(InvalidArgumentError, match="coords has shape"):
        N.greedy_decode(pol, np.zeros((4, 3)))


def test_tiny_imitation_training_lowers_the_loss():
    ds = N.make_dataset((6, 7), per_size=20, seed=3)
    rng = np.random.default_rng(4)
    held = [N._suffix_batch(ds, 64, rng) for _ in range(4)]

    def loss(pol: N.BQPolicy) -> float:
        total = 0.0
        with torch.no_grad():
            for coords, cur, rem, dest, label in held:
                x = N.state_features(
                    torch.as_tensor(coords, dtype=torch.float32),
                    torch.as_tensor(cur),
                    torch.as_tensor(rem),
                    torch.as_tensor(dest),
                )
                total += float(torch.nn.functional.cross_entropy(pol(x), torch.as_tensor(label)))
        return total / len(held)

    pol0 = _tiny_policy(5)
    before = loss(pol0)
    pol, hist = N.train_policy(
        ds, steps=80, batch_size=32, lr=3e-3, seed=6, policy=pol0, log_every=20, device="cpu"
    )
    assert (
        hist.step == [20, 40, 60, 80]
        and all(np.isfinite(hist.loss))
        and all(0 <= a <= 1 for a in hist.accuracy)
    )
    assert loss(pol) < before
    with pytest.raises(InvalidArgumentError, match="steps"):
        N.train_policy(ds, steps=0)


def test_cvrp_suffix_states_replay_optimal_solutions_and_decode():
    ds = N.make_cvrp_dataset((5, 6), per_size=4, seed=7)
    for n, insts in ds.instances.items():
        for inst, dec in zip(insts, ds.decisions[n], strict=True):
            routes: list[list[int]] = []
            for k, via in dec:
                if via or not routes:
                    routes.append([])
                routes[-1].append(k)
            assert C.cvrp_cost(inst, routes) == pytest.approx(C.solve_cvrp(inst)[0], abs=1e-9)
    rng = np.random.default_rng(8)
    for _ in range(10):
        x, mask, label = N._cvrp_suffix_batch(ds, 8, rng)
        assert x.shape[0] == mask.shape[0] == 8 and x.shape[2] == 6 and mask.shape[1] == 2 * (x.shape[1] - 2)
        assert mask[np.arange(8), label].all()  # the optimal action is feasible
        assert np.all(x[:, 0, 4] == 1) and np.all(x[:, 1, 5] == 1)
    torch.manual_seed(0)
    pol = N.CVRPPolicy(d_model=16, n_layers=1, n_heads=2, d_ff=32).eval()
    inst = C.random_cvrp(7, 9, capacity=10)
    cost, routes = N.cvrp_greedy_decode(pol, inst)
    assert C.cvrp_cost(inst, routes) == pytest.approx(cost) and cost >= C.solve_cvrp(inst)[0] - 1e-9
    nn_cost, nn_routes = N.cvrp_nearest_neighbour(inst)
    assert C.cvrp_cost(inst, nn_routes) == pytest.approx(nn_cost)
    pol2, hist = N.train_policy(
        ds, steps=10, batch_size=8, seed=1, d_model=16, n_layers=1, n_heads=2, d_ff=32
    )
    assert isinstance(pol2, N.CVRPPolicy) and np.isfinite(hist.loss).all()
