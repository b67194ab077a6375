// cuRAND on the CPU, for .ci/cuda-on-cpu, built as libcurand.so.10: candle
// makes a generator when it opens a GPU and seeds it; scoring never draws
// from it, so drawing is left to the generated stubs, which fail by name.
extern "C" {

static char generator_token;

int curandCreateGenerator(void** generator, int) {
    *generator = &generator_token;
    return 0;
}

int curandDestroyGenerator(void*) { return 0; }
int curandSetPseudoRandomGeneratorSeed(void*, unsigned long long) { return 0; }
int curandSetStream(void*, void*) { return 0; }

}  // extern "C"
