/* spikeunet checkpoint FILE: validate a checkpoint and show what it holds. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "common.h"
#include "spikeunet/checkpoint.h"
#include "spikeunet/model_io.h"
#include "spikeunet/train.h"

int cmd_checkpoint(int argc, char **argv) {
    int digest = 0, meta = 0;
    cli_opt opts[] = {{"--digest", OPT_FLAG, &digest, NULL,
                       "print only a CRC-32 of every tensor's values (weights, buffers, optimiser state): two runs "
                       "that reached the same state print the same digest"},
                      {"--metadata", OPT_FLAG, &meta, NULL, "print the metadata entries in full"},
                      {NULL, 0, NULL, NULL, NULL}};
    cli_command cmd = {"checkpoint", "Validate a checkpoint (structure, checksums, model configuration) and summarise it.",
                       "spikeunet checkpoint FILE [--digest]", NULL, NULL};
    const char *pos[1] = {NULL};
    int npos = 0;
    int rc = cli_parse(&cmd, opts, argc, argv, pos, 1, &npos);
    if (rc) return rc < 0 ? CLI_OK : rc;
    if (npos != 1) {
        cli_error("checkpoint", "expected one checkpoint file (see 'spikeunet checkpoint --help')");
        return CLI_USAGE;
    }
    su_error err;
    su_checkpoint ck;
    if (su_checkpoint_read(&ck, pos[0], &err)) {
        cli_error("checkpoint", "%s", err.msg);
        return CLI_FAIL;
    }
    su_model *m = NULL;
    int with_opt = su_checkpoint_find(&ck, "optim.m.out.weight") != NULL;
    if (su_checkpoint_meta_get(&ck, SU_CONFIG_KEY) && su_model_from_checkpoint(&m, &ck, with_opt, &err)) {
        cli_error("checkpoint", "%s", err.msg);
        su_checkpoint_free(&ck);
        return CLI_FAIL;
    }
    if (digest) {
        uLong crc = crc32(0L, Z_NULL, 0);
        for (size_t i = 0; i < ck.n_tensors; i++)
            crc = crc32(crc, ck.tensors[i].data, (uInt)su_checkpoint_tensor_bytes(&ck.tensors[i]));
        printf("%08lx\n", crc);
    } else {
        uint64_t values = 0;
        for (size_t i = 0; i < ck.n_tensors; i++) values += su_checkpoint_tensor_elements(&ck.tensors[i]);
        printf("%s: valid safetensors, %zu tensors, %llu values, data checksum %s\n", pos[0], ck.n_tensors,
               (unsigned long long)values, ck.has_crc32 ? "present and matching" : "absent");
        if (m) {
            printf("model: %s", su_model_get_config(m)->kind == SU_MODEL_SPIKING ? "Spiking 3D U-Net" : "3D U-Net");
            printf(" (%zu parameters)%s\n", su_model_num_params(m), with_opt ? ", with Adam state" : "");
        }
        su_train_state_info st;
        su_error ignored; /* a checkpoint need not come from training */
        if (su_train_state(&st, &ck, &ignored) == 0) {
            printf("training: epoch %d of %d, %ld Adam steps, %.1f h; best validation IoU %.4f at epoch %d; "
                   "data %s (%d training / %d validation volumes)\n",
                   st.epochs_done, st.epochs, st.adam_t, st.seconds / 3600, st.best_iou, st.best_epoch,
                   st.data_dir[0] ? st.data_dir : "?", st.n_train, st.n_val);
            printf("started from: %s\n", st.init_from[0] ? st.init_from : "random weights (seeded)");
        }
        printf("metadata%s:\n", meta ? "" : " (long values cut; --metadata prints them in full)");
        for (size_t i = 0; i < ck.n_meta; i++) {
            const char *v = ck.meta[i].value;
            int n = (int)strlen(v);
            if (!meta && n > 300) n = 300;
            printf("  %s: %.*s%s\n", ck.meta[i].key, n, v, n < (int)strlen(v) ? " ..." : "");
        }
    }
    su_model_destroy(m);
    su_checkpoint_free(&ck);
    return CLI_OK;
}
