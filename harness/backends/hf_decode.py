"""The transformers backend's own decoding loop, which drops finished rows from the batch ("row compaction").

``model.generate`` keeps every row of a batch in every forward pass until the *longest* row stops: a batch
of 32 samples where 31 stop after 40 tokens and one runs to 96 pays for 32 rows x 96 steps. Decoding cost
per step grows with the number of rows (the MLP and attention matmuls are [rows, d] x [d, d']), so on a CPU,
where a step is compute-bound, the wasted rows are wasted time. This loop does what ``generate`` does --
prefill, then one token per step from the KV cache -- and, once at least ``min_drop_frac`` of the rows still
in the batch have finished (and at least one), keeps only the unfinished ones: the KV cache
(``DynamicCache`` layers' ``batch_select_indices``), the attention mask, the position ids and the seeds.

Tokens are drawn by :func:`harness.backends.row_sampler.draw_tokens` with the same per-row counter-based
noise as the ``generate`` path, so a given (prompt, seed) gives the same completion either way (tested
token for token on a float32 model; the backend's known limit applies: a batch of a different shape can
change logits in the last bits, bf16 especially). Position ids follow ``generate``: cumsum(mask) - 1 on the
prompt, then + 1 per step. A model whose cache cannot select rows is decoded without compaction.
"""

from __future__ import annotations


def _select_cache_rows(cache, idx) -> bool:
    layers = getattr(cache, "layers", None)
    if not layers or not all(hasattr(layer, "batch_select_indices") for layer in layers):
        return False
    for layer in layers:
        layer.batch_select_indices(idx)
    return True


def decode_compacting(model, input_ids, attention_mask, seeds, temperature: float, top_p: float,
                      max_new_tokens: int, eos_ids: set[int], pad_id: int, prefix_cache=None,
                      min_drop_frac: float = 0.125, on_step=None, step_every: int = 8, stop_strings=None):
    """Sample up to ``max_new_tokens`` per row; returns ``(token_ids, logprob_sums, finish_reasons, stats)``.

    ``input_ids``/``attention_mask``: the left-padded prompts [B, L] on the model's device. ``prefix_cache``:
    a KV cache already holding every row's prompt except its last token (the backend's shared prefill), or
    None to prefill here. ``seeds``: int64 tensor [B]. A row stops at the first eos token (kept, finish
    ``"stop"``) or after ``max_new_tokens`` tokens (``"length"``). ``stats``: rows fed to the model summed over
    the decode forwards (``decode_row_steps``) and what keeping all B rows would have fed. ``on_step``: called as
    ``on_step(new_tokens_so_far)`` every ``step_every`` decode steps (a progress display inside a long batch).
    ``stop_strings``: a :class:`harness.backends.stop_strings.StopStrings`; a row whose newest token completes one
    stops there too (finish ``"stop_string"``; the caller truncates the text after the stop string).
    """
    import torch

    device = input_ids.device
    B = input_ids.shape[0]
    eos = torch.tensor(sorted(eos_ids), dtype=torch.int64, device=device)
    mask = attention_mask.long()
    pos = (mask.cumsum(-1) - 1).masked_fill(mask == 0, 1)
    with torch.inference_mode():
        if prefix_cache is not None:
            out = model(input_ids=input_ids[:, -1:], attention_mask=mask, position_ids=pos[:, -1:],
                        past_key_values=prefix_cache, use_cache=True, logits_to_keep=1)
        else:
            out = model(input_ids=input_ids, attention_mask=mask, position_ids=pos, use_cache=True,
                        logits_to_keep=1)
    cache = out.past_key_values
    logits = out.logits[:, -1]
    next_pos = pos[:, -1:] + 1
    rows = torch.arange(B, device=device)          # original row of each row still in the batch
    row_seeds = seeds.to(device)
    done = torch.zeros(B, dtype=torch.bool, device=device)  # over the rows still in the batch
    tokens: list[list[int]] = [[] for _ in range(B)]
    lp_sum = [0.0] * B
    finish = ["length"] * B
    can_compact = True
    row_steps, forwards = 0, 0
    from .row_sampler import draw_tokens

    for step in range(max_new_tokens):
        chosen, lp = draw_tokens(logits, row_seeds, step, temperature, top_p)
        stops = torch.isin(chosen, eos)
        hits = [False] * len(stops)
        for k, (r, was_done, tok, tok_lp, stop) in enumerate(zip(rows.tolist(), done.tolist(), chosen.tolist(),
                                                                 lp.tolist(), stops.tolist())):
            if was_done:
                continue
            tokens[r].append(tok)
            lp_sum[r] += tok_lp
            if stop:
                finish[r] = "stop"
            elif stop_strings is not None and stop_strings.hit(r, tokens[r]):
                finish[r], hits[k] = "stop_string", True
        done |= stops
        if any(hits):
            done |= torch.tensor(hits, device=device)
        if on_step is not None and step % step_every == step_every - 1:
            on_step(sum(map(len, tokens)))
        n_done = int(done.sum())
        if n_done == done.numel() or step == max_new_tokens - 1:
            break
        if can_compact and n_done >= max(1, min_drop_frac * done.numel()):
            keep = (~done).nonzero().squeeze(1)
            can_compact = _select_cache_rows(cache, keep)
            if can_compact:
                rows, row_seeds, chosen = rows[keep], row_seeds[keep], chosen[keep]
                mask, next_pos, done = mask[keep], next_pos[keep], done[keep]
        feed = torch.where(done, torch.full_like(chosen, pad_id), chosen)
        mask = torch.cat([mask, mask.new_ones(mask.shape[0], 1)], dim=1)
        row_steps, forwards = row_steps + feed.shape[0], forwards + 1
        with torch.inference_mode():
            out = model(input_ids=feed[:, None], attention_mask=mask, position_ids=next_pos,
                        past_key_values=cache, use_cache=True)
        cache = out.past_key_values
        logits = out.logits[:, -1]
        next_pos = next_pos + 1
    return tokens, lp_sum, finish, {"decode_row_steps": row_steps, "decode_row_steps_uncompacted": B * forwards}
