/* A model in a safetensors checkpoint: every parameter and buffer under its PyTorch-style name (so the
 * file loads into tests/reference/spikeunet_torch.py's UNet3D with load_state_dict), optionally Adam's
 * moments ("optim.m.<name>", "optim.v.<name>"), and metadata: "spikeunet.config" (the model
 * configuration as JSON, enough to rebuild the model from the file alone), "spikeunet.format", plus
 * whatever the caller adds (the training job's state: epoch, split, options ...). */
#ifndef SPIKEUNET_MODEL_IO_H
#define SPIKEUNET_MODEL_IO_H

#include "spikeunet/checkpoint.h"
#include "spikeunet/model.h"

#ifdef __cplusplus
extern "C" {
#endif

#define SU_CONFIG_KEY "spikeunet.config"

/* The configuration as a JSON object (malloc'd string) and back. Parsing checks every field. */
char *su_model_config_to_json(const su_model_config *cfg);
int su_model_config_from_json(su_model_config *cfg, const char *json, su_error *err);
const char *su_model_kind_name(su_model_kind kind);   /* "unet", "spiking" */
int su_model_kind_parse(su_model_kind *kind, const char *s);

/* Writes the model (and Adam's moments when with_optimizer) atomically, with extra metadata. */
int su_model_save(const char *path, const su_model *m, int with_optimizer, const su_checkpoint_meta *extra,
                  size_t n_extra, su_error *err);

/* Builds a model from a checkpoint opened with su_checkpoint_read: configuration from its metadata,
 * weights and buffers checked tensor by tensor (name, shape; nothing missing, nothing unknown), and
 * Adam's moments when with_optimizer (an error if the file has none). */
int su_model_from_checkpoint(su_model **m, const su_checkpoint *ck, int with_optimizer, su_error *err);
/* Convenience: open path, build the model, close. */
int su_model_load(su_model **m, const char *path, su_error *err);

#ifdef __cplusplus
}
#endif
#endif
