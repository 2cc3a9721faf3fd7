"""PPO on CartPole-v1, written to follow CleanRL's cleanrl/ppo.py (single-file PPO, discrete actions)
with its default hyperparameters, for reference throughput/learning figures on this machine.

Differences from upstream CleanRL ppo.py (none of them algorithmic):
  * no wandb / tensorboard / video capture: episodes are printed (as upstream) and also stored,
    and a JSON summary is written at the end (--out);
  * gymnasium>=1.0 is used, whose SyncVectorEnv defaults to NEXT_STEP autoreset. Upstream CleanRL
    pins gymnasium 0.29, whose vector envs reset in the SAME step as termination, and its rollout
    logic (next_done, GAE masking, "final_info" logging) assumes that. We therefore construct the
    vector env with autoreset_mode=SAME_STEP so the transition stream is exactly the 0.29 one;
  * torch.set_num_threads(1) (as asked for this benchmark); device is always CPU.

Run from the repository root (install steps in bench/peers/README.md):
  OMP_NUM_THREADS=1 .build-peers/venv/bin/python bench/peers/ppo_cleanrl.py --seed 1 --quiet --out cleanrl.json
The optima-gym side of the comparison is `optima-gym bench ppo-cartpole --seed 1`.
"""
import argparse
import json
import os
import random
import time

import gymnasium as gym
import numpy as np
import torch
import torch.nn as nn
import torch.optim as optim
from torch.distributions.categorical import Categorical


def strtobool(x: str) -> bool:
    return str(x).lower() in ("1", "true", "t", "yes", "y", "on")


def parse_args():
    # fmt: off
    p = argparse.ArgumentParser()
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--torch-deterministic", type=strtobool, default=True, nargs="?", const=True)
    p.add_argument("--env-id", type=str, default="CartPole-v1")
    p.add_argument("--total-timesteps", type=int, default=500000)
    p.add_argument("--learning-rate", type=float, default=2.5e-4)
    p.add_argument("--num-envs", type=int, default=4)
    p.add_argument("--num-steps", type=int, default=128)
    p.add_argument("--anneal-lr", type=strtobool, default=True, nargs="?", const=True)
    p.add_argument("--gamma", type=float, default=0.99)
    p.add_argument("--gae-lambda", type=float, default=0.95)
    p.add_argument("--num-minibatches", type=int, default=4)
    p.add_argument("--update-epochs", type=int, default=4)
    p.add_argument("--norm-adv", type=strtobool, default=True, nargs="?", const=True)
    p.add_argument("--clip-coef", type=float, default=0.2)
    p.add_argument("--clip-vloss", type=strtobool, default=True, nargs="?", const=True)
    p.add_argument("--ent-coef", type=float, default=0.01)
    p.add_argument("--vf-coef", type=float, default=0.5)
    p.add_argument("--max-grad-norm", type=float, default=0.5)
    p.add_argument("--target-kl", type=float, default=None)
    p.add_argument("--torch-threads", type=int, default=1)
    p.add_argument("--out", type=str, default=None, help="path of a JSON summary to write")
    p.add_argument("--quiet", action="store_true", help="do not print per-episode / per-iteration lines")
    args = p.parse_args()
    args.batch_size = int(args.num_envs * args.num_steps)
    args.minibatch_size = int(args.batch_size // args.num_minibatches)
    args.num_iterations = args.total_timesteps // args.batch_size
    # fmt: on
    return args


def make_env(env_id):
    def thunk():
        env = gym.make(env_id)
        env = gym.wrappers.RecordEpisodeStatistics(env)
        return env

    return thunk


def layer_init(layer, std=np.sqrt(2), bias_const=0.0):
    torch.nn.init.orthogonal_(layer.weight, std)
    torch.nn.init.constant_(layer.bias, bias_const)
    return layer


class Agent(nn.Module):
    def __init__(self, envs):
        super().__init__()
        n_obs = np.array(envs.single_observation_space.shape).prod()
        self.critic = nn.Sequential(
            layer_init(nn.Linear(n_obs, 64)),
            nn.Tanh(),
            layer_init(nn.Linear(64, 64)),
            nn.Tanh(),
            layer_init(nn.Linear(64, 1), std=1.0),
        )
        self.actor = nn.Sequential(
            layer_init(nn.Linear(n_obs, 64)),
            nn.Tanh(),
            layer_init(nn.Linear(64, 64)),
            nn.Tanh(),
            layer_init(nn.Linear(64, envs.single_action_space.n), std=0.01),
        )

    def get_value(self, x):
        return self.critic(x)

    def get_action_and_value(self, x, action=None):
        logits = self.actor(x)
        probs = Categorical(logits=logits)
        if action is None:
            action = probs.sample()
        return action, probs.log_prob(action), probs.entropy(), self.critic(x)


def iter_finished_episodes(infos):
    """Yield (env_index, return, length) for episodes that ended in this vector step.

    With SAME_STEP autoreset, gymnasium 1.x puts the info dict of the terminal step (which carries
    RecordEpisodeStatistics' "episode") under infos["final_info"] (a vectorised dict with masks)."""
    if "final_info" not in infos:
        return
    fi = infos["final_info"]
    if isinstance(fi, dict):  # gymnasium >= 1.0: dict of arrays + "_key" masks
        if "episode" not in fi:
            return
        mask = fi["_episode"]
        for i in np.nonzero(mask)[0]:
            yield int(i), float(fi["episode"]["r"][i]), int(fi["episode"]["l"][i])
    else:  # gymnasium 0.29: array of per-env dicts / None
        for i, info in enumerate(fi):
            if info and "episode" in info:
                yield i, float(np.asarray(info["episode"]["r"]).item()), int(np.asarray(info["episode"]["l"]).item())


if __name__ == "__main__":
    args = parse_args()
    torch.set_num_threads(args.torch_threads)

    # TRY NOT TO MODIFY: seeding
    random.seed(args.seed)
    np.random.seed(args.seed)
    torch.manual_seed(args.seed)
    torch.backends.cudnn.deterministic = args.torch_deterministic

    device = torch.device("cpu")

    # env setup
    vec_kwargs = {}
    if hasattr(gym.vector, "AutoresetMode"):
        vec_kwargs["autoreset_mode"] = gym.vector.AutoresetMode.SAME_STEP
    envs = gym.vector.SyncVectorEnv([make_env(args.env_id) for _ in range(args.num_envs)], **vec_kwargs)
    assert isinstance(envs.single_action_space, gym.spaces.Discrete), "only discrete action space is supported"

    agent = Agent(envs).to(device)
    optimizer = optim.Adam(agent.parameters(), lr=args.learning_rate, eps=1e-5)

    # ALGO Logic: Storage setup
    obs = torch.zeros((args.num_steps, args.num_envs) + envs.single_observation_space.shape).to(device)
    actions = torch.zeros((args.num_steps, args.num_envs) + envs.single_action_space.shape).to(device)
    logprobs = torch.zeros((args.num_steps, args.num_envs)).to(device)
    rewards = torch.zeros((args.num_steps, args.num_envs)).to(device)
    dones = torch.zeros((args.num_steps, args.num_envs)).to(device)
    values = torch.zeros((args.num_steps, args.num_envs)).to(device)

    episodes = []  # (global_step, return, length)
    sps_log = []

    # TRY NOT TO MODIFY: start the game
    global_step = 0
    start_time = time.time()
    next_obs, _ = envs.reset(seed=args.seed)
    next_obs = torch.Tensor(next_obs).to(device)
    next_done = torch.zeros(args.num_envs).to(device)

    for iteration in range(1, args.num_iterations + 1):
        # Annealing the rate if instructed to do so.
        if args.anneal_lr:
            frac = 1.0 - (iteration - 1.0) / args.num_iterations
            lrnow = frac * args.learning_rate
            optimizer.param_groups[0]["lr"] = lrnow

        for step in range(0, args.num_steps):
            global_step += args.num_envs
            obs[step] = next_obs
            dones[step] = next_done

            # ALGO LOGIC: action logic
            with torch.no_grad():
                action, logprob, _, value = agent.get_action_and_value(next_obs)
                values[step] = value.flatten()
            actions[step] = action
            logprobs[step] = logprob

            # TRY NOT TO MODIFY: execute the game and log data.
            next_obs, reward, terminations, truncations, infos = envs.step(action.cpu().numpy())
            next_done = np.logical_or(terminations, truncations)
            rewards[step] = torch.tensor(reward).to(device).view(-1)
            next_obs, next_done = torch.Tensor(next_obs).to(device), torch.Tensor(next_done).to(device)

            for _i, ep_r, ep_l in iter_finished_episodes(infos):
                episodes.append((global_step, ep_r, ep_l))
                if not args.quiet:
                    print(f"global_step={global_step}, episodic_return={ep_r}")

        # bootstrap value if not done
        with torch.no_grad():
            next_value = agent.get_value(next_obs).reshape(1, -1)
            advantages = torch.zeros_like(rewards).to(device)
            lastgaelam = 0
            for t in reversed(range(args.num_steps)):
                if t == args.num_steps - 1:
                    nextnonterminal = 1.0 - next_done
                    nextvalues = next_value
                else:
                    nextnonterminal = 1.0 - dones[t + 1]
                    nextvalues = values[t + 1]
                delta = rewards[t] + args.gamma * nextvalues * nextnonterminal - values[t]
                advantages[t] = lastgaelam = delta + args.gamma * args.gae_lambda * nextnonterminal * lastgaelam
            returns = advantages + values

        # flatten the batch
        b_obs = obs.reshape((-1,) + envs.single_observation_space.shape)
        b_logprobs = logprobs.reshape(-1)
        b_actions = actions.reshape((-1,) + envs.single_action_space.shape)
        b_advantages = advantages.reshape(-1)
        b_returns = returns.reshape(-1)
        b_values = values.reshape(-1)

        # Optimizing the policy and value network
        b_inds = np.arange(args.batch_size)
        clipfracs = []
        for epoch in range(args.update_epochs):
            np.random.shuffle(b_inds)
            for start in range(0, args.batch_size, args.minibatch_size):
                end = start + args.minibatch_size
                mb_inds = b_inds[start:end]

                _, newlogprob, entropy, newvalue = agent.get_action_and_value(b_obs[mb_inds], b_actions.long()[mb_inds])
                logratio = newlogprob - b_logprobs[mb_inds]
                ratio = logratio.exp()

                with torch.no_grad():
                    # calculate approx_kl http://joschu.net/blog/kl-approx.html
                    old_approx_kl = (-logratio).mean()
                    approx_kl = ((ratio - 1) - logratio).mean()
                    clipfracs += [((ratio - 1.0).abs() > args.clip_coef).float().mean().item()]

                mb_advantages = b_advantages[mb_inds]
                if args.norm_adv:
                    mb_advantages = (mb_advantages - mb_advantages.mean()) / (mb_advantages.std() + 1e-8)

                # Policy loss
                pg_loss1 = -mb_advantages * ratio
                pg_loss2 = -mb_advantages * torch.clamp(ratio, 1 - args.clip_coef, 1 + args.clip_coef)
                pg_loss = torch.max(pg_loss1, pg_loss2).mean()

                # Value loss
                newvalue = newvalue.view(-1)
                if args.clip_vloss:
                    v_loss_unclipped = (newvalue - b_returns[mb_inds]) ** 2
                    v_clipped = b_values[mb_inds] + torch.clamp(
                        newvalue - b_values[mb_inds],
                        -args.clip_coef,
                        args.clip_coef,
                    )
                    v_loss_clipped = (v_clipped - b_returns[mb_inds]) ** 2
                    v_loss_max = torch.max(v_loss_unclipped, v_loss_clipped)
                    v_loss = 0.5 * v_loss_max.mean()
                else:
                    v_loss = 0.5 * ((newvalue - b_returns[mb_inds]) ** 2).mean()

                entropy_loss = entropy.mean()
                loss = pg_loss - args.ent_coef * entropy_loss + v_loss * args.vf_coef

                optimizer.zero_grad()
                loss.backward()
                nn.utils.clip_grad_norm_(agent.parameters(), args.max_grad_norm)
                optimizer.step()

            if args.target_kl is not None and approx_kl > args.target_kl:
                break

        y_pred, y_true = b_values.cpu().numpy(), b_returns.cpu().numpy()
        var_y = np.var(y_true)
        explained_var = np.nan if var_y == 0 else 1 - np.var(y_true - y_pred) / var_y

        # upstream logs these scalars to tensorboard; we keep the .item() syncs for parity
        _ = (v_loss.item(), pg_loss.item(), entropy_loss.item(), old_approx_kl.item(), approx_kl.item(),
             np.mean(clipfracs), explained_var)
        sps = int(global_step / (time.time() - start_time))
        sps_log.append((global_step, sps))
        if not args.quiet:
            print("SPS:", sps)

    train_seconds = time.time() - start_time
    envs.close()

    def last20_at(step_limit):
        # mean return of the last 20 episodes finished at global_step <= step_limit. The run stops at
        # num_iterations * batch_size (499,712 for the defaults), so the 500k point is the end of training.
        if step_limit >= global_step + args.batch_size:
            return None  # run did not get that far
        rs = [r for (gs, r, _l) in episodes if gs <= step_limit]
        if not rs:
            return None
        return float(np.mean(rs[-20:]))

    checkpoints = {str(c): last20_at(c) for c in (100_000, 200_000, 300_000, 400_000, 500_000)}
    final_returns = [r for (_gs, r, _l) in episodes][-20:]
    summary = {
        "algo": "cleanrl_ppo",
        "env_id": args.env_id,
        "seed": args.seed,
        "global_steps": global_step,
        "num_iterations": args.num_iterations,
        "train_seconds": train_seconds,
        "sps": global_step / train_seconds,
        "n_episodes": len(episodes),
        "last20_mean_return_at": checkpoints,
        "last20_mean_return_final": float(np.mean(final_returns)) if final_returns else None,
        "versions": {"torch": torch.__version__, "gymnasium": gym.__version__, "numpy": np.__version__},
        "torch_threads": torch.get_num_threads(),
        "args": vars(args),
    }
    print("SUMMARY " + json.dumps({k: v for k, v in summary.items() if k != "args"}))
    if args.out:
        os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
        with open(args.out, "w") as f:
            json.dump({**summary, "episodes": episodes, "sps_log": sps_log}, f)
