"""The data model: immutability, private copies, conversions, infeasible pairs, persistence."""

from __future__ import annotations

import dataclasses
import os

import numpy as np
import pytest
import scipy.sparse as sp

import mdpkit
from mdpkit import FiniteHorizonMDP, InvalidMDPError, TabularMDP


def model_inputs(S: int = 3, A: int = 2, seed: int = 0):
    rng = np.random.default_rng(seed)
    P = rng.random((S, A, S)) + 0.05
    P /= P.sum(axis=-1, keepdims=True)
    R = rng.normal(size=(S, A))
    return P, R


def assert_same_model(a: TabularMDP, b: TabularMDP) -> None:
    assert a.is_sparse == b.is_sparse
    assert (a.S, a.A) == (b.S, b.A)
    assert a.gamma == b.gamma or (a.gamma is None and b.gamma is None)
    np.testing.assert_array_equal(a.dense_P(), b.dense_P())
    np.testing.assert_array_equal(a.R, b.R)
    np.testing.assert_array_equal(a.mask, b.mask)
    np.testing.assert_array_equal(a.initial, b.initial)


# ====================================================================================== frozen, read-only
class TestImmutability:
    @pytest.mark.parametrize("attr", ["P", "R", "gamma", "initial", "mask"])
    def test_tabular_is_frozen(self, attr):
        mdp = TabularMDP(*model_inputs(), 0.9)
        with pytest.raises(dataclasses.FrozenInstanceError):
            setattr(mdp, attr, None)

    @pytest.mark.parametrize("attr", ["P", "R", "H", "initial", "terminal", "mask", "stationary"])
    def test_finite_is_frozen(self, attr):
        fh = FiniteHorizonMDP(*model_inputs(), 3)
        with pytest.raises(dataclasses.FrozenInstanceError):
            setattr(fh, attr, None)

    def test_tabular_dense_arrays_are_read_only(self):
        mdp = TabularMDP(*model_inputs(), 0.9)
        for arr in (mdp.P, mdp.R, mdp.initial, mdp.mask, mdp.P_rows, mdp.dense_P()):
            assert not arr.flags.writeable
            with pytest.raises(ValueError, match="read-only"):
                arr.flat[0] = arr.flat[0]

    def test_tabular_csr_arrays_are_read_only(self):
        P, R = model_inputs()
        mdp = TabularMDP(sp.csr_matrix(P.reshape(6, 3)), R, 0.9)
        before = mdp.dense_P().copy()
        for arr in (mdp.P.data, mdp.P.indices, mdp.P.indptr):
            with pytest.raises(ValueError, match="read-only"):
                arr[0] = arr[0]
        with pytest.raises(ValueError):
            mdp.P.data *= 2.0
        with pytest.raises(ValueError):
            mdp.P[0, 0] = 0.5
        np.testing.assert_array_equal(mdp.dense_P(), before)

    def test_finite_arrays_are_read_only(self):
        P, R = model_inputs()
        for fh in (
            FiniteHorizonMDP(P, R, 2, terminal=np.ones(3)),
            FiniteHorizonMDP(np.stack([P, P]), np.stack([R, R]), 2),
        ):
            for arr in (fh.P, fh.R, fh.initial, fh.terminal, fh.mask):
                with pytest.raises(ValueError, match="read-only"):
                    arr.flat[0] = arr.flat[0]

    def test_mutating_caller_arrays_does_not_change_the_tabular_model(self):
        P, R = model_inputs()
        mask = np.ones((3, 2), dtype=bool)
        mask[1, 0] = False
        mu = np.array([0.2, 0.3, 0.5])
        mdp = TabularMDP(P, R, 0.9, initial=mu, mask=mask)
        snapshot = (mdp.P.copy(), mdp.R.copy(), mdp.mask.copy(), mdp.initial.copy())
        P[:] = 0.0
        R[:] = 99.0
        mask[:] = False
        mu[:] = 0.0
        for got, want in zip((mdp.P, mdp.R, mdp.mask, mdp.initial), snapshot, strict=True):
            np.testing.assert_array_equal(got, want)

    def test_mutating_caller_csr_does_not_change_the_model(self):
        P, R = model_inputs()
        csr = sp.csr_matrix(P.reshape(6, 3))
        mdp = TabularMDP(csr, R, 0.9)
        before = mdp.dense_P().copy()
        csr.data[:] = 0.0
        csr.indices[:] = 0
        np.testing.assert_array_equal(mdp.dense_P(), before)

    def test_mutating_caller_arrays_does_not_change_the_finite_model(self):
        P, R = model_inputs()
        Pt, Rt, term = np.stack([P, P]), np.stack([R, R]), np.arange(3.0)
        mask = np.ones((2, 3, 2), dtype=bool)
        fh = FiniteHorizonMDP(Pt, Rt, 2, terminal=term, mask=mask)
        snapshot = (fh.P.copy(), fh.R.copy(), fh.terminal.copy(), fh.mask.copy())
        Pt[:] = 0.0
        Rt[:] = 5.0
        term[:] = -1.0
        mask[:] = False
        for got, want in zip((fh.P, fh.R, fh.terminal, fh.mask), snapshot, strict=True):
            np.testing.assert_array_equal(got, want)

    def test_solvers_do_not_write_into_the_model(self):
        mdp = TabularMDP(*model_inputs(), 0.9)
        for method in ("vi", "pi", "mpi", "lp"):
            mdpkit.solve(mdp, method)  # would raise "read-only" if a kernel wrote into P or R
        mdpkit.average_reward(mdp.with_gamma(None))


# ====================================================================================== contents
class TestContents:
    def test_infeasible_pairs_become_minus_inf_self_loops(self):
        P, R = model_inputs()
        mask = np.array([[True, False], [True, True], [False, True]])
        for Pin in (P, sp.csr_matrix(P.reshape(6, 3))):
            mdp = TabularMDP(Pin, R, 0.9, mask=mask)
            D = mdp.dense_P()
            np.testing.assert_array_equal(D[0, 1], [1.0, 0.0, 0.0])
            np.testing.assert_array_equal(D[2, 0], [0.0, 0.0, 1.0])
            np.testing.assert_array_equal(D[mask], P[mask])
            assert np.all(np.isneginf(mdp.R[~mask]))
            np.testing.assert_array_equal(mdp.R[mask], R[mask])
            np.testing.assert_array_equal(mdp.R_finite, np.where(mask, R, 0.0))
            np.testing.assert_array_equal(mdp.mask, mask)

    def test_minus_inf_reward_sets_the_mask(self):
        P, R = model_inputs()
        R[1, 1] = -np.inf
        mdp = TabularMDP(P, R)
        assert mdp.mask.sum() == 5 and not mdp.mask[1, 1]
        np.testing.assert_array_equal(mdp.dense_P()[1, 1], [0.0, 1.0, 0.0])

    def test_sas_reward_is_reduced(self):
        """r(s, a) = sum_s' P(s'|s, a) R(s, a, s'), identically for dense and CSR kernels."""
        P, _ = model_inputs()
        R3 = np.random.default_rng(1).normal(size=(3, 2, 3))
        want = np.einsum("sat,sat->sa", P, R3)
        for Pin in (P, sp.csr_matrix(P.reshape(6, 3))):
            np.testing.assert_allclose(TabularMDP(Pin, R3, 0.9).R, want, rtol=0, atol=1e-15)

    def test_sas_reward_with_mask(self):
        P, _ = model_inputs()
        R3 = np.ones((3, 2, 3))
        mask = np.array([[True, True], [False, True], [True, True]])
        mdp = TabularMDP(P, R3, mask=mask)
        assert np.isneginf(mdp.R[1, 0])
        np.testing.assert_allclose(mdp.R[mask], 1.0, rtol=0, atol=1e-15)

    def test_shapes_and_helpers(self):
        P, R = model_inputs(4, 3)
        mdp = TabularMDP(P, R, 0.5)
        assert (mdp.S, mdp.A, mdp.nnz, mdp.is_sparse) == (4, 3, 48, False)
        assert mdp.P_rows.shape == (12, 4)
        np.testing.assert_array_equal(mdp.P_rows[5], P[1, 2])
        np.testing.assert_allclose(mdp.initial, 0.25)
        sparse = mdp.to_sparse()
        assert sparse.is_sparse and sparse.nnz == 48 and sparse.to_sparse() is sparse
        assert mdp.to_dense() is mdp
        assert_same_model(sparse.to_dense(), mdp)
        assert "S=4" in repr(mdp) and "A=3" in repr(mdp) and "CSR" in repr(sparse)
        assert mdp.with_gamma(None).gamma is None
        mu = np.array([1.0, 0, 0, 0])
        np.testing.assert_array_equal(mdp.with_initial(mu).initial, mu)

    def test_policy_chain(self):
        P, R = model_inputs(3, 2)
        mdp = TabularMDP(P, R, 0.9)
        pol = np.array([1, 0, 1])
        pi = np.full((3, 2), 0.5)
        for m in (mdp, mdp.to_sparse()):
            Ppi = m.transition_matrix(pol)
            Ppi = Ppi.toarray() if sp.issparse(Ppi) else Ppi
            np.testing.assert_allclose(Ppi, P[np.arange(3), pol], rtol=0, atol=1e-15)
            np.testing.assert_array_equal(m.reward_vector(pol), R[np.arange(3), pol])
            Pmix = m.transition_matrix(pi)
            Pmix = Pmix.toarray() if sp.issparse(Pmix) else Pmix
            np.testing.assert_allclose(Pmix, P.mean(axis=1), rtol=0, atol=1e-15)
            np.testing.assert_allclose(m.reward_vector(pi), R.mean(axis=1), rtol=0, atol=1e-15)

    def test_deterministic_to_stochastic(self):
        out = mdpkit.deterministic_to_stochastic(np.array([[0, 2], [1, 1]]), 3)
        assert out.shape == (2, 2, 3)
        np.testing.assert_array_equal(out[0, 1], [0, 0, 1])
        np.testing.assert_array_equal(out.sum(-1), 1.0)

    def test_finite_horizon_forms_agree(self):
        """Stationary dense, stationary CSR and time-indexed forms of the same model hold the same data."""
        P, R = model_inputs()
        H = 3
        R3 = np.random.default_rng(2).normal(size=(3, 2, 3))
        forms = [
            FiniteHorizonMDP(P, R3, H),
            FiniteHorizonMDP(sp.csr_matrix(P.reshape(6, 3)), R3, H),
            FiniteHorizonMDP(np.stack([P] * H), np.stack([R3] * H), H),
        ]
        want_R = np.broadcast_to(np.einsum("sat,sat->sa", P, R3), (H, 3, 2))
        for fh in forms:
            np.testing.assert_allclose(fh.R, want_R, rtol=0, atol=1e-15)
            for h in range(H):
                Ph = fh.P_rows_at(h)
                Ph = Ph.toarray() if sp.issparse(Ph) else Ph
                np.testing.assert_array_equal(Ph, P.reshape(6, 3))
        assert [f.stationary for f in forms] == [True, True, False]

    def test_finite_horizon_time_indexed_reward_with_stationary_kernel(self):
        P, _ = model_inputs()
        Rt = np.arange(4 * 3 * 2, dtype=float).reshape(4, 3, 2)
        fh = FiniteHorizonMDP(P, Rt, 4)
        np.testing.assert_array_equal(fh.R, Rt)

    def test_from_tabular(self):
        P, R = model_inputs()
        mask = np.array([[True, False], [True, True], [True, True]])
        mdp = TabularMDP(P, R, 0.9, initial=[0.1, 0.2, 0.7], mask=mask)
        fh = FiniteHorizonMDP.from_tabular(mdp, 5, terminal=np.ones(3))
        assert fh.H == 5 and fh.stationary
        np.testing.assert_array_equal(fh.R[3], mdp.R)
        np.testing.assert_array_equal(fh.mask[0], mask)
        np.testing.assert_array_equal(fh.initial, mdp.initial)
        np.testing.assert_array_equal(fh.terminal, 1.0)


# ====================================================================================== persistence
def _files(d) -> set[str]:
    return set(os.listdir(d))


class TestSaveLoad:
    def cases(self):
        P, R = model_inputs(4, 3)
        mask = np.ones((4, 3), dtype=bool)
        mask[0, 1] = mask[3, 0] = False
        mu = np.array([0.1, 0.2, 0.3, 0.4])
        R3 = np.random.default_rng(3).normal(size=(4, 3, 4))
        return {
            "dense": TabularMDP(P, R, 0.95),
            "csr": TabularMDP(sp.csr_matrix(P.reshape(12, 4)), R, 0.5, initial=mu),
            "masked-dense": TabularMDP(P, R, 0.9, mask=mask),
            "masked-csr": TabularMDP(sp.csr_matrix(P.reshape(12, 4)), R, 0.9, mask=mask),
            "gamma-none": TabularMDP(P, R3, None, initial=mu),
            "gamma-zero": TabularMDP(P, R, 0.0),
            "gamma-one": TabularMDP(P, R, 1.0),
        }

    @pytest.mark.parametrize(
        "name", ["dense", "csr", "masked-dense", "masked-csr", "gamma-none", "gamma-zero", "gamma-one"]
    )
    def test_round_trip(self, tmp_path, name):
        mdp = self.cases()[name]
        path = mdp.save(tmp_path / "model.npz")
        assert path == tmp_path / "model.npz" and path.exists()
        back = TabularMDP.load(path)
        assert_same_model(back, mdp)
        if mdp.is_sparse:
            np.testing.assert_array_equal(back.P.indptr, mdp.P.indptr)
            np.testing.assert_array_equal(back.P.indices, mdp.P.indices)
        assert _files(tmp_path) == {"model.npz"}  # no temp file left behind
        if mdp.gamma is not None and mdp.gamma < 1:
            np.testing.assert_array_equal(mdpkit.solve(back, "pi").V, mdpkit.solve(mdp, "pi").V)

    def test_suffix_is_added(self, tmp_path):
        mdp = self.cases()["dense"]
        assert mdp.save(tmp_path / "m") == tmp_path / "m.npz"
        assert mdp.save(tmp_path / "m.v1") == tmp_path / "m.v1.npz"
        assert _files(tmp_path) == {"m.npz", "m.v1.npz"}

    def test_creates_parent_directories(self, tmp_path):
        path = self.cases()["dense"].save(tmp_path / "a" / "b" / "m.npz")
        assert path.exists()

    def test_refuses_to_overwrite(self, tmp_path):
        cases = self.cases()
        path = cases["dense"].save(tmp_path / "m.npz")
        stamp = path.read_bytes()
        with pytest.raises(FileExistsError, match="overwrite=True"):
            cases["csr"].save(path)
        assert path.read_bytes() == stamp  # untouched
        assert _files(tmp_path) == {"m.npz"}  # and no temp file left
        cases["csr"].save(path, overwrite=True)
        assert_same_model(TabularMDP.load(path), cases["csr"])
        assert _files(tmp_path) == {"m.npz"}

    def test_refuses_to_overwrite_a_foreign_file(self, tmp_path):
        path = tmp_path / "notes.npz"
        path.write_text("precious")
        with pytest.raises(FileExistsError):
            self.cases()["dense"].save(path)
        assert path.read_text() == "precious"

    def test_failed_write_leaves_no_temp_file(self, tmp_path, monkeypatch):
        def boom(*args, **kwargs):
            raise OSError("disk full")

        monkeypatch.setattr(np, "savez_compressed", boom)
        with pytest.raises(OSError, match="disk full"):
            self.cases()["dense"].save(tmp_path / "m.npz")
        assert _files(tmp_path) == set()

    def test_load_missing_arrays(self, tmp_path):
        np.savez(tmp_path / "noP.npz", R=np.zeros((1, 1)))
        with pytest.raises(InvalidMDPError, match="holds no array 'P'"):
            TabularMDP.load(tmp_path / "noP.npz")
        np.savez(tmp_path / "noR.npz", P=np.ones((1, 1, 1)))
        with pytest.raises(InvalidMDPError, match="holds no array 'R'"):
            TabularMDP.load(tmp_path / "noR.npz")

    def test_load_validates(self, tmp_path):
        P = np.full((2, 1, 2), 0.5)
        P[1, 0] = [0.5, 0.4]
        np.savez(tmp_path / "bad.npz", P=P, R=np.zeros((2, 1)), gamma=np.array(0.9))
        with pytest.raises(InvalidMDPError, match=r"P\[1, 0, :\] sums to 0.9"):
            TabularMDP.load(tmp_path / "bad.npz")

    def test_load_minimal_file(self, tmp_path):
        np.savez(tmp_path / "min.npz", P=np.ones((1, 1, 1)), R=np.ones((1, 1)))
        mdp = TabularMDP.load(tmp_path / "min.npz")
        assert mdp.gamma is None and mdp.S == 1
