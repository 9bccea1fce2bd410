"""numba kernels on the CSR arrays of :class:`mdpkit.rover.Tree` (private; the public modules validate).

Arrays: ``action_ptr`` (N+1,), ``outcome_ptr`` (E+1,), ``child`` (M,), ``prob`` (M,), ``reward`` (N,);
children have larger indices than their parents, so a backward pass loops over nodes in decreasing order
and a forward pass in increasing order. Policies and Q-functions are (E,) arrays indexed by edge.
"""

from __future__ import annotations

import numba as nb
import numpy as np

_JIT = dict(cache=True, nogil=True)

MODE_MEAN = 0  # uniform policy: V(s) = mean_a Q(s, a)
MODE_MAX = 1  # optimal: V(s) = max_a Q(s, a)
MODE_POLICY = 2  # V(s) = sum_a pi(a|s) Q(s, a)

ALG_REINFORCE = 0  # A_i = r_i
ALG_REINFORCE_BASELINE = 1  # A_i = r_i - mean(r)
ALG_GRPO = 2  # A_i = (r_i - mean(r)) / std(r)


@nb.njit(**_JIT)
def depths(action_ptr, outcome_ptr, child, dep):
    """dep[c] = max over parents of dep[parent] + 1 (longest path from the root)."""
    N = action_ptr.shape[0] - 1
    dep[:] = 0
    for n in range(N):
        for e in range(action_ptr[n], action_ptr[n + 1]):
            for j in range(outcome_ptr[e], outcome_ptr[e + 1]):
                c = child[j]
                if dep[n] + 1 > dep[c]:
                    dep[c] = dep[n] + 1


@nb.njit(**_JIT)
def backward(action_ptr, outcome_ptr, child, prob, reward, pi, mode, q, v):
    """Q[e] = sum_j prob[j] V[child[j]];  V[n] = reward[n] at leaves, else mean / max / pi-weighted Q."""
    N = action_ptr.shape[0] - 1
    for n in range(N - 1, -1, -1):
        a0 = action_ptr[n]
        a1 = action_ptr[n + 1]
        if a0 == a1:
            v[n] = reward[n]
            continue
        acc = 0.0
        best = -np.inf
        for e in range(a0, a1):
            s = 0.0
            for j in range(outcome_ptr[e], outcome_ptr[e + 1]):
                s += prob[j] * v[child[j]]
            q[e] = s
            if mode == MODE_MEAN:
                acc += s
            elif mode == MODE_MAX:
                if s > best:
                    best = s
            else:
                acc += pi[e] * s
        if mode == MODE_MEAN:
            v[n] = acc / (a1 - a0)
        elif mode == MODE_MAX:
            v[n] = best
        else:
            v[n] = acc


@nb.njit(**_JIT)
def forward_reach(action_ptr, outcome_ptr, child, prob, pi, reach):
    """reach[n] = Pr^pi(the trajectory visits n) from the root (reach[0] = 1)."""
    N = action_ptr.shape[0] - 1
    reach[:] = 0.0
    reach[0] = 1.0
    for n in range(N):
        r = reach[n]
        if r == 0.0:
            continue
        for e in range(action_ptr[n], action_ptr[n + 1]):
            w = r * pi[e]
            if w == 0.0:
                continue
            for j in range(outcome_ptr[e], outcome_ptr[e + 1]):
                reach[child[j]] += w * prob[j]


@nb.njit(**_JIT)
def softmax_all(action_ptr, scores, inv_temp, pi):
    """pi[e] = exp(inv_temp * scores[e]) / sum over the node's edges (max-shifted)."""
    N = action_ptr.shape[0] - 1
    for n in range(N):
        a0 = action_ptr[n]
        a1 = action_ptr[n + 1]
        if a0 == a1:
            continue
        m = -np.inf
        for e in range(a0, a1):
            if scores[e] > m:
                m = scores[e]
        z = 0.0
        for e in range(a0, a1):
            pi[e] = np.exp(inv_temp * (scores[e] - m))
            z += pi[e]
        for e in range(a0, a1):
            pi[e] /= z


@nb.njit(**_JIT)
def leaf_metrics(action_ptr, reward, reach, n_eval):
    """(value, success probability, entropy over solutions [nats], expected distinct solutions in n_eval
    samples, solutions with positive probability) from visit probabilities."""
    N = action_ptr.shape[0] - 1
    value = 0.0
    succ = 0.0
    for n in range(N):
        if action_ptr[n] == action_ptr[n + 1]:
            value += reach[n] * reward[n]
            if reward[n] > 0:
                succ += reach[n]
    ent = 0.0
    distinct = 0.0
    support = 0
    for n in range(N):
        if action_ptr[n] == action_ptr[n + 1] and reward[n] > 0:
            p = reach[n]
            if p > 0:
                support += 1
                c = p / succ
                ent -= c * np.log(c)
                # 1 - (1 - p)^k, accurately for small p
                distinct += -np.expm1(n_eval * np.log1p(-p)) if p < 1.0 else 1.0
    if ent < 0.0:
        ent = 0.0
    return value, succ, ent, distinct, support


@nb.njit(**_JIT)
def _pick(weights_start, weights_end, weights, u):
    """Inverse-CDF draw of an index in [start, end) with probabilities weights[start:end] (sum 1)."""
    acc = 0.0
    for k in range(weights_start, weights_end):
        acc += weights[k]
        if u < acc:
            return k
    # numerical tail: the last index with positive weight
    for k in range(weights_end - 1, weights_start - 1, -1):
        if weights[k] > 0:
            return k
    return weights_end - 1


@nb.njit(**_JIT)
def _softmax_node(scores, a0, a1, inv_temp, out):
    m = -np.inf
    for e in range(a0, a1):
        if scores[e] > m:
            m = scores[e]
    z = 0.0
    for e in range(a0, a1):
        out[e] = np.exp(inv_temp * (scores[e] - m))
        z += out[e]
    for e in range(a0, a1):
        out[e] /= z


@nb.njit(**_JIT)
def _rollouts(
    action_ptr, outcome_ptr, child, prob, reward, scores, inv_temp, rng, pi_buf, edges, nxt, lens, rew, leaf
):
    """Sample len(rew) trajectories of softmax(inv_temp * scores) from the root."""
    n_roll = rew.shape[0]
    for i in range(n_roll):
        n = 0
        L = 0
        while action_ptr[n + 1] > action_ptr[n]:
            a0 = action_ptr[n]
            a1 = action_ptr[n + 1]
            _softmax_node(scores, a0, a1, inv_temp, pi_buf)
            e = _pick(a0, a1, pi_buf, rng.random())
            j = _pick(outcome_ptr[e], outcome_ptr[e + 1], prob, rng.random())
            c = child[j]
            edges[i, L] = e
            nxt[i, L] = c
            L += 1
            n = c
        lens[i] = L
        rew[i] = reward[n]
        leaf[i] = n


@nb.njit(**_JIT)
def _log(action_ptr, outcome_ptr, child, prob, reward, scores, inv_temp, pi, reach, n_eval, seen, out, k):
    softmax_all(action_ptr, scores, inv_temp, pi)
    forward_reach(action_ptr, outcome_ptr, child, prob, pi, reach)
    value, succ, ent, distinct, support = leaf_metrics(action_ptr, reward, reach, n_eval)
    found = 0
    for n in range(seen.shape[0]):
        if seen[n]:
            found += 1
    out[k, 0] = value
    out[k, 1] = succ
    out[k, 2] = ent
    out[k, 3] = distinct
    out[k, 4] = support
    out[k, 5] = found


@nb.njit(**_JIT)
def train_rover(
    action_ptr,
    outcome_ptr,
    child,
    prob,
    reward,
    Q,
    inv_rho,
    lr,
    n_roll,
    iterations,
    broadcast,
    log_every,
    n_eval,
    max_len,
    rng,
    out,
    batch_mean,
):
    """Tabular ROVER (He et al. 2025, Alg. 1 with a Q table): behaviour softmax(Q / rho); for each visited
    (s_t, a_t) the target r~_i + mean_{a'} Q(s_{t+1}, a') with r~_i = r_i - mean_j r_j (r~ at every step when
    broadcast, else at the last step only); each visited entry moves lr of the way to its mean target."""
    N = action_ptr.shape[0] - 1
    E = Q.shape[0]
    pi = np.empty(E)
    reach = np.empty(N)
    seen = np.zeros(N, dtype=np.bool_)
    edges = np.empty((n_roll, max_len), dtype=np.int64)
    nxt = np.empty((n_roll, max_len), dtype=np.int64)
    lens = np.empty(n_roll, dtype=np.int64)
    rew = np.empty(n_roll)
    leaf = np.empty(n_roll, dtype=np.int64)
    acc = np.zeros(E)
    cnt = np.zeros(E, dtype=np.int64)
    touched = np.empty(n_roll * max_len, dtype=np.int64)
    k = 0
    for it in range(iterations + 1):
        if it % log_every == 0 or it == iterations:
            _log(action_ptr, outcome_ptr, child, prob, reward, Q, inv_rho, pi, reach, n_eval, seen, out, k)
            k += 1
        if it == iterations:
            break
        _rollouts(
            action_ptr, outcome_ptr, child, prob, reward, Q, inv_rho, rng, pi, edges, nxt, lens, rew, leaf
        )
        mean = 0.0
        for i in range(n_roll):
            mean += rew[i]
            if reward[leaf[i]] > 0:
                seen[leaf[i]] = True
        mean /= n_roll
        batch_mean[it] = mean
        nt = 0
        for i in range(n_roll):
            rc = rew[i] - mean
            L = lens[i]
            for t in range(L):
                e = edges[i, t]
                c = nxt[i, t]
                a0 = action_ptr[c]
                a1 = action_ptr[c + 1]
                boot = 0.0
                if a1 > a0:
                    for e2 in range(a0, a1):
                        boot += Q[e2]
                    boot /= a1 - a0
                r = rc if (broadcast or t == L - 1) else 0.0
                if cnt[e] == 0:
                    touched[nt] = e
                    nt += 1
                acc[e] += r + boot
                cnt[e] += 1
        for m in range(nt):
            e = touched[m]
            Q[e] += lr * (acc[e] / cnt[e] - Q[e])
            acc[e] = 0.0
            cnt[e] = 0
    return k


@nb.njit(**_JIT)
def train_pg(
    action_ptr,
    outcome_ptr,
    child,
    prob,
    reward,
    theta,
    lr,
    n_roll,
    iterations,
    algorithm,
    log_every,
    n_eval,
    max_len,
    rng,
    out,
    batch_mean,
):
    """Tabular softmax policy gradient on logits theta (E,): REINFORCE (A_i = r_i, gradient
    (1/n) sum_i A_i sum_t grad log pi), REINFORCE with the batch-mean baseline, or GRPO
    (A_i = (r_i - mean) / std, 0 when std = 0, gradient (1/n) sum_i (1/|y_i|) sum_t A_i grad log pi;
    on-policy single step, so the clipped ratio equals 1). grad_theta(s, .) log pi(a|s) = e_a - pi(.|s)."""
    N = action_ptr.shape[0] - 1
    E = theta.shape[0]
    pi = np.empty(E)
    reach = np.empty(N)
    seen = np.zeros(N, dtype=np.bool_)
    edges = np.empty((n_roll, max_len), dtype=np.int64)
    nxt = np.empty((n_roll, max_len), dtype=np.int64)
    lens = np.empty(n_roll, dtype=np.int64)
    rew = np.empty(n_roll)
    leaf = np.empty(n_roll, dtype=np.int64)
    grad = np.zeros(E)
    mark = np.zeros(N, dtype=np.bool_)
    touched = np.empty(n_roll * max_len, dtype=np.int64)
    k = 0
    for it in range(iterations + 1):
        if it % log_every == 0 or it == iterations:
            _log(action_ptr, outcome_ptr, child, prob, reward, theta, 1.0, pi, reach, n_eval, seen, out, k)
            k += 1
        if it == iterations:
            break
        _rollouts(
            action_ptr, outcome_ptr, child, prob, reward, theta, 1.0, rng, pi, edges, nxt, lens, rew, leaf
        )
        mean = 0.0
        for i in range(n_roll):
            mean += rew[i]
            if reward[leaf[i]] > 0:
                seen[leaf[i]] = True
        mean /= n_roll
        batch_mean[it] = mean
        var = 0.0
        for i in range(n_roll):
            var += (rew[i] - mean) ** 2
        std = np.sqrt(var / n_roll)
        nt = 0
        for i in range(n_roll):
            if algorithm == ALG_REINFORCE:
                adv = rew[i]
            elif algorithm == ALG_REINFORCE_BASELINE:
                adv = rew[i] - mean
            else:
                adv = (rew[i] - mean) / std if std > 0 else 0.0
            if adv == 0.0:
                continue
            L = lens[i]
            w = adv / n_roll
            if algorithm == ALG_GRPO:
                w /= L
            n = 0
            for t in range(L):
                e = edges[i, t]
                a0 = action_ptr[n]
                a1 = action_ptr[n + 1]
                _softmax_node(theta, a0, a1, 1.0, pi)
                for e2 in range(a0, a1):
                    grad[e2] -= w * pi[e2]
                grad[e] += w
                if not mark[n]:
                    mark[n] = True
                    touched[nt] = n
                    nt += 1
                n = nxt[i, t]
        for m in range(nt):
            n = touched[m]
            for e2 in range(action_ptr[n], action_ptr[n + 1]):
                theta[e2] += lr * grad[e2]
                grad[e2] = 0.0
            mark[n] = False
    return k
