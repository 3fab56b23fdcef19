"""Dev check (not run by `npm test`): the TransformerConfig / MLATransformerConfig Megatron-LM builds from emitted
argument lists (core_transformer_config_from_args), printed as the model fields moefold sets: norm epsilon, init
std, shared-expert gate, the rotary and YaRN fields, dropout. Runs after megatron_validate.py's stand-ins.
Usage: /usr/bin/python3 scripts/megatron-model-config.py ../shared/tools/megatron_validate.py MEGATRON_DIR CASES.jsonl
(CASES as scripts/megatron-cases.ts writes them: one {"world", "args", "env", ...} a line)."""
import io, json, os, runpy, sys, contextlib
tool, mlm, cases = sys.argv[1], sys.argv[2], sys.argv[3]
sys.argv = [tool, mlm, '-']
sys.stdin = io.StringIO('')
try:
    ns = runpy.run_path(tool, run_name='validator')
except SystemExit:
    ns = None
from megatron.training.arguments import parse_args, validate_args
from megatron.training.argument_utils import core_transformer_config_from_args
from megatron.core.transformer.transformer_config import TransformerConfig, MLATransformerConfig
keys = ['layernorm_epsilon', 'init_method_std', 'moe_shared_expert_gate', 'rope_type', 'rotary_base', 'rotary_percent',
        'rotary_scaling_factor', 'original_max_position_embeddings', 'beta_fast', 'beta_slow', 'mscale', 'mscale_all_dim',
        'yarn_rotary_scaling_factor', 'yarn_original_max_position_embeddings', 'yarn_beta_fast', 'yarn_beta_slow',
        'attention_dropout', 'hidden_dropout']
for line in open(cases):
    case = json.loads(line)
    os.environ.update(WORLD_SIZE=str(case['world']), RANK='0', LOCAL_RANK='0', **case['env'])
    sys.argv = ['pretrain_gpt.py'] + case['args']
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        args = parse_args()
        validate_args(args, {})
    # TE is absent here: switch off the fusions whose availability TransformerConfig checks (not model facts)
    for k in ['apply_rope_fusion', 'moe_permute_fusion', 'moe_router_fusion', 'gradient_accumulation_fusion', 'cross_entropy_loss_fusion',
              'tp_comm_overlap', 'bias_dropout_fusion', 'masked_softmax_fusion', 'persist_layer_norm']:
        if hasattr(args, k): setattr(args, k, False)
    cls = MLATransformerConfig if args.multi_latent_attention else TransformerConfig
    try:
        with contextlib.redirect_stdout(io.StringIO()):
            cfg = core_transformer_config_from_args(args, cls)
        got = {k: getattr(cfg, k) for k in keys if hasattr(cfg, k)}
    except BaseException as e:
        got = {'error': f'{type(e).__name__}: {e}'[:300]}
    got.update(position_embedding_type=args.position_embedding_type, use_rope_scaling=args.use_rope_scaling,
               rope_scaling_factor=args.rope_scaling_factor, rotary_base_arg=args.rotary_base, rotary_percent_arg=args.rotary_percent)
    print(json.dumps({'world': case['world'], 'cls': cls.__name__, **got}))
