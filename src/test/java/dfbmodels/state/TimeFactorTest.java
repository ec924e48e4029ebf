package dfbmodels.state;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.junit.jupiter.api.Test;

class TimeFactorTest {

    @Test
    void gammaMatchesClosedForms() {
        double sqrtPi = Math.sqrt(Math.PI);
        double[][] cases = {
            {0.5, sqrtPi},
            {1, 1},
            {1.5, sqrtPi / 2},
            {2, 1},
            {2.5, 3 * sqrtPi / 4},
            {5, 24},
            {0.25, 3.6256099082219083119},
            {10, 362880},
        };
        for (double[] c : cases) {
            assertEquals(c[1], TimeFactor.gamma(c[0]), 1e-14 * c[1], "Gamma(" + c[0] + ")");
        }
        assertThrows(IllegalArgumentException.class, () -> TimeFactor.gamma(0));
    }

    @Test
    void fractionalFactorIsTheKernelOfTheSegmentationPaper() {
        TimeFactor f = TimeFactor.fractional(1.5);
        // T = 4: sqrt(1 - t/4) / Gamma(1.5), Gamma(1.5) = 0.886227
        double[] want = {1 / 0.886227, 0.866025 / 0.886227, 0.707107 / 0.886227, 0.5 / 0.886227};
        for (int t = 0; t < 4; t++) {
            assertEquals(want[t], f.at(t, 4), 2e-6, "t=" + t);
        }
        // step 0 weighs 1/Gamma(alpha) whatever T, also the feedforward twin's T = 1
        assertEquals(1 / 0.886227, f.at(0, 1), 1e-6);
        assertEquals(1 / 0.886227, f.at(0, 10), 1e-6);
        // alpha = 2: a linear ramp (1 - t/T)
        assertEquals(0.75, TimeFactor.fractional(2).at(1, 4), 1e-15);
        assertSame(TimeFactor.NONE, TimeFactor.fractional(1), "alpha = 1 turns it off");
        assertEquals(1, TimeFactor.NONE.at(3, 4));
        IllegalArgumentException e =
                assertThrows(IllegalArgumentException.class, () -> TimeFactor.fractional(0));
        assertEquals(
                "the time exponent alpha must be positive and finite, got 0.0", e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> f.at(4, 4));
        assertEquals("the time factor needs 0 <= t < T, got t=4, T=4", e.getMessage());
    }
}
