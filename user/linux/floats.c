/* linux-floats: printf of floats and doubles, libm, and the rounding mode, compared with what glibc
 * prints on Linux. */
#include <fenv.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

static int failures;
static void expect(const char* got, const char* wanted) {
    if (strcmp(got, wanted) != 0) {
        printf("linux-floats: FAILED: got '%s', wanted '%s'\n", got, wanted);
        ++failures;
    }
}

int main(void) {
    char text[128];
    volatile float f = 1.5f / 3.0f;
    volatile double d = 1.0 / 3.0;
    snprintf(text, sizeof text, "%.6f %.9g %e", (double)f, d, 6.02214076e23);
    expect(text, "0.500000 0.333333333 6.022141e+23");
    snprintf(text, sizeof text, "%.10f %.4f %g", sqrt(2.0), exp(1.0), pow(2.0, 0.5));
    expect(text, "1.4142135624 2.7183 1.41421");
    snprintf(text, sizeof text, "%a %.17g", 0.1, 0.1);
    expect(text, "0x1.999999999999ap-4 0.10000000000000001");
    volatile double one = 1.0, three = 3.0;  /* volatile: divided at run time, in the rounding mode */
    fesetround(FE_UPWARD);
    volatile double third = one / three;
    fesetround(FE_TONEAREST);
    snprintf(text, sizeof text, "%.17g", third);
    expect(text, "0.33333333333333337");
    printf("linux-floats: %.6f %.9g %.3e sqrt(2)=%.10f\n", (double)f, d, 6.02214076e23, sqrt(2.0));
    if (failures) return 1;
    printf("linux-floats: ok\n");
    return 0;
}
