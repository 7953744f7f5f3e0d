/* Operation counts and the energy estimate of a small network, against values computed by hand
 * (base 2, depth 1, one volume of 1 x 4 x 4: S = 16 voxels at the top level, 4 below). */
#include "check.h"
#include "spikeunet/evaluate.h"

int main(void) {
    su_model_config c;
    su_error err;
    su_energy_table fp32 = su_energy_table_preset(SU_ENERGY_FP32);
    su_energy_estimate est;
    double macs = 0, sops = 0;

    /* 3D U-Net: convolutions 864 + 1728 (enc0) + 864 + 1728 (enc1) + 128 (up0: 16 voxels x 2 out x 4 in)
     * + 3456 + 1728 (dec0) + 128 (out) = 10624 MACs; batch norms 32 + 32 + 16 + 16 + 32 + 32 = 160. */
    su_model_config_default(&c, SU_MODEL_UNET);
    c.base = 2, c.depth = 1;
    CHECK_OK(su_energy_of_model(&est, &c, 1, 4, 4, NULL, &fp32, &macs, &sops, &err), &err);
    CHECK_NEAR(macs, 10624 + 160, 1e-9, "U-Net MACs");
    CHECK_NEAR(sops, 0, 1e-9, "U-Net SOPs");
    CHECK_NEAR(est.total_mj, (10624 + 160) * 4.6e-9, 1e-15, "U-Net energy (mJ)");

    /* Spiking, T = 2, firing rates enc0.lif1 .5, enc0.lif2 .25, enc1.lif1 .1, enc1.lif2 .2, dec0.lif1 .3,
     * dec0.lif2 .4. Spike-fed: enc0.conv2 3456 x .5, enc1.conv1 1728 x .25, enc1.conv2 3456 x .1,
     * up0 256 x .2, dec0.conv1 skip half 3456 x .25, dec0.conv2 3456 x .3 = 4457.6 SOPs. Real-valued:
     * enc0.conv1 864 (once), enc0.bn1 32 (once), bn 64 + 32 + 32 + 64 + 64, the decoder's upsampled
     * half 3456, mean over T 64, out 128 = 4800 MACs. Neuron updates 4 x 64 + 2 x 32 = 320. */
    su_model_config_default(&c, SU_MODEL_SPIKING);
    c.base = 2, c.depth = 1, c.timesteps = 2;
    double rates[6] = {0.5, 0.25, 0.1, 0.2, 0.3, 0.4};
    CHECK_OK(su_energy_of_model(&est, &c, 1, 4, 4, rates, &fp32, &macs, &sops, &err), &err);
    CHECK_NEAR(sops, 4457.6, 1e-6, "spiking SOPs");
    CHECK_NEAR(est.charged_macs, 4800, 1e-6, "spiking MACs charged");
    CHECK_NEAR(est.neuron_updates, 320, 1e-9, "LIF updates");
    CHECK_NEAR(est.total_mj, (4.6 * (4800 + 320) + 0.9 * 4457.6) * 1e-9, 1e-15, "spiking energy (mJ)");

    /* rate 1 everywhere (NULL): every spike-fed layer costs as many accumulates as it has MACs */
    CHECK_OK(su_energy_of_model(&est, &c, 1, 4, 4, NULL, &fp32, &macs, &sops, &err), &err);
    CHECK_NEAR(sops, 3456 + 1728 + 3456 + 256 + 3456 + 3456, 1e-6, "dense-bound SOPs");
    return check_report("opcount");
}
