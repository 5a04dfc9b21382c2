/* bertsize: plain structs and codes shared by every formula header.
 *
 * The enum values are the positions of the names in the Python tuples
 * bertsize.FAMILIES, HEADS, ACTIVATIONS, PRECISIONS, OPTIMIZERS, ATTENTIONS,
 * RECOMPUTES and BACKENDS; tests/test_kernel.py checks that they agree.
 */
#ifndef BERTSIZE_TYPES_H
#define BERTSIZE_TYPES_H

#include <stdint.h>

enum bs_family { BS_BERT, BS_ROBERTA, BS_XLM_ROBERTA, BS_DISTILBERT, BS_ALBERT, BS_ELECTRA };
enum bs_head { BS_MODEL, BS_MASKED_LM, BS_PRETRAINING, BS_SEQUENCE_CLASSIFICATION };
enum bs_activation { BS_GELU, BS_GELU_NEW, BS_RELU };
enum bs_precision { BS_FP32, BS_FP16, BS_BF16, BS_INT8, BS_INT4 };
enum bs_optimizer { BS_ADAMW, BS_ADAM, BS_SGD, BS_SGD_MOMENTUM, BS_ADAFACTOR, BS_ADAMW_8BIT };
enum bs_attention { BS_EAGER, BS_SDPA, BS_FLASH };
enum bs_recompute { BS_RECOMPUTE_NONE, BS_RECOMPUTE_SELECTIVE, BS_RECOMPUTE_FULL };
enum bs_backend { BS_CUDA, BS_CPU };

/* Metrics, in the order of bertsize.METRICS; bit i of a metric mask selects metric i. */
enum bs_metric {
    BS_PARAMS, BS_FLOPS_FWD, BS_FLOPS_BWD, BS_MACS_FWD, BS_ELEMENTWISE_FLOPS_FWD,
    BS_WEIGHT_BYTES, BS_GRAD_BYTES, BS_OPTIMIZER_BYTES, BS_ACTIVATION_BYTES, BS_PEAK_BYTES,
    BS_N_METRICS
};

/* Metric masks, and the metrics each metric is built from. */
#define BS_BIT(metric) (1u << (metric))
#define BS_NEEDS_PARAMS (BS_BIT(BS_PARAMS) | BS_NEEDS_STATES)
#define BS_NEEDS_STATES (BS_BIT(BS_WEIGHT_BYTES) | BS_BIT(BS_GRAD_BYTES) | BS_BIT(BS_OPTIMIZER_BYTES) | \
                         BS_BIT(BS_PEAK_BYTES))
#define BS_NEEDS_FLOPS (BS_BIT(BS_FLOPS_FWD) | BS_BIT(BS_FLOPS_BWD) | BS_BIT(BS_MACS_FWD))
#define BS_NEEDS_ACTIVATIONS (BS_BIT(BS_ACTIVATION_BYTES) | BS_BIT(BS_PEAK_BYTES))
/* the roofline latency reads the parameters and the model states */
#define BS_LATENCY_NEEDS (BS_BIT(BS_PARAMS) | BS_BIT(BS_WEIGHT_BYTES) | BS_BIT(BS_GRAD_BYTES) | \
                          BS_BIT(BS_OPTIMIZER_BYTES))

/* Row fields, in the order of bertsize.COLUMNS (bertsize._abi.FIELDS). */
enum bs_field {
    BS_LAYERS, BS_HIDDEN, BS_HEADS, BS_INTERMEDIATE, BS_VOCAB, BS_MAX_POSITIONS, BS_TYPE_VOCAB,
    BS_EMBEDDING, BS_HIDDEN_GROUPS, BS_BATCH, BS_SEQ_LEN, BS_N_FIELDS
};

/* Everything that is the same for every row of one call. */
typedef struct {
    int family, head, activation;
    int pooler;               /* head "model" runs the pooler */
    int hidden_dropout;       /* 1 when the probability is > 0 */
    int attention_dropout;
    int classifier_dropout;
    int training, precision, optimizer, attention, recompute, backend;
    int zero_stage;
    int64_t data_parallel;
    int64_t num_labels;
} bs_options;

/* One configuration.  embedding == 0 means "equal to hidden". */
typedef struct {
    int64_t f[BS_N_FIELDS];
} bs_row;

#endif
