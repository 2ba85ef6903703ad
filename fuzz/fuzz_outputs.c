/* Fuzz target: the firmware's printed output as `deploy --run` parses it
 * (mf_outputs_from_firmware). The first three input bytes give the vector count (1 to 16),
 * the outputs per vector (1 to 16) and the precision (int8, int16, float32); the rest is the
 * text. */
#include <stdlib.h>

#include "fuzz_check.h"
#include "fuzz_util.h"
#include "mf_outputs.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 3) return 0;
    static const int bits_of[3] = {8, 16, 32};
    int n = 1 + data[0] % 16, k = 1 + data[1] % 16, bits = bits_of[data[2] % 3];
    int32_t labels[16];
    for (int i = 0; i < 16; i++)
        labels[i] = i % 3 == 2 ? -1 : i % k;
    char *text = fuzz_strndup(data + 3, size - 3);
    mf_outputs o;
    mf_error err;
    mf_error_clear(&err);
    if (mf_outputs_from_firmware(text, n, k, bits, bits == 32 ? 0 : 4, labels, &o, &err) == MF_OK)
        mf_outputs_free(&o);
    else
        fuzz_check_refusal(&err, "mf_outputs_from_firmware");
    free(text);
    return 0;
}
