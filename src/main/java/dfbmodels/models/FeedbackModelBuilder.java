package dfbmodels.models;

import dfbmodels.FeedbackBlock;

/**
 * The settings every feedback model shares, and how they reach its {@link FeedbackBlock}.
 *
 * @param <T> the concrete builder
 */
public abstract class FeedbackModelBuilder<T extends FeedbackModelBuilder<T>> {

    /** The number of classes; -1 until set. */
    protected int numClasses = -1;

    /** The number of feedback filters {@code fb}. */
    protected int fbFilters;

    /** The number of input channels. */
    protected int inChannels = 3;

    private float tau = 1f;
    private int iterations = 5;
    private float atol = 1e-2f;
    private boolean checkFinite;
    private float initialStateStd;
    private boolean uniformShortcut = true;
    private boolean feedback = true;
    private boolean stepReadouts;

    /**
     * Creates a builder.
     *
     * @param defaultFbFilters the model's default number of feedback filters
     */
    protected FeedbackModelBuilder(int defaultFbFilters) {
        this.fbFilters = defaultFbFilters;
    }

    /**
     * Returns this builder.
     *
     * @return this builder
     */
    protected abstract T self();

    /**
     * Builds the model.
     *
     * @return the model, not yet initialised
     * @throws IllegalArgumentException if a setting is invalid; the message names it, its value and
     *     what would be valid
     */
    public abstract FeedbackBlock build();

    /**
     * Sets the number of classes (required).
     *
     * @param numClasses a positive number
     * @return this builder
     */
    public T setNumClasses(int numClasses) {
        this.numClasses = numClasses;
        return self();
    }

    /**
     * Sets the number of feedback filters {@code fb}.
     *
     * @param fbFilters a positive number (see the model for further constraints)
     * @return this builder
     */
    public T optFbFilters(int fbFilters) {
        this.fbFilters = fbFilters;
        return self();
    }

    /**
     * Sets the number of input channels (default 3; 1 for MNIST).
     *
     * @param inChannels a positive number
     * @return this builder
     */
    public T optInChannels(int inChannels) {
        this.inChannels = inChannels;
        return self();
    }

    /**
     * Sets the state operator's time constant (default 1).
     *
     * @param tau a positive number
     * @return this builder
     */
    public T optTau(float tau) {
        this.tau = tau;
        return self();
    }

    /**
     * Sets the default number of iterations T (default 5); a call can override it with {@link
     * FeedbackBlock#ITERATIONS}.
     *
     * @param iterations {@code >= 0}
     * @return this builder
     */
    public T optIterations(int iterations) {
        this.iterations = iterations;
        return self();
    }

    /**
     * Sets the early-stop tolerance on the change of {@code sum|h|} (default {@code 1e-2}; {@code
     * <= 0} disables it).
     *
     * @param atol the tolerance
     * @return this builder
     */
    public T optAtol(float atol) {
        this.atol = atol;
        return self();
    }

    /**
     * Rejects inputs holding NaN or infinite values (default false: the check costs a read back to
     * the host per forward).
     *
     * @param checkFinite true to check every input
     * @return this builder
     */
    public T optCheckFinite(boolean checkFinite) {
        this.checkFinite = checkFinite;
        return self();
    }

    /**
     * Draws the initial state from {@code N(0, std^2)} instead of zeros (default 0: zeros).
     *
     * @param std the standard deviation, {@code >= 0}
     * @return this builder
     */
    public T optInitialStateStd(float std) {
        this.initialStateStd = std;
        return self();
    }

    /**
     * Sets whether training skips the state operator's {@code Q} while {@code |S|} is uniform
     * (default {@code true}; outputs and gradients are unchanged). {@code false} trains {@code Q}
     * and re-orthogonalises it at every training step, exactly as the original. See {@link
     * dfbmodels.state.StateExpDecay}.
     *
     * @param uniformShortcut whether to use the uniform shortcut
     * @return this builder
     */
    public T optUniformShortcut(boolean uniformShortcut) {
        this.uniformShortcut = uniformShortcut;
        return self();
    }

    /**
     * Turns the feedback loop off (default on), for the feedforward twin of the same model: the
     * same parameters under the same names, run for exactly one step whatever T. See {@link
     * FeedbackBlock.Builder#optFeedback(boolean)}.
     *
     * @param feedback false for the feedforward twin
     * @return this builder
     */
    public T optFeedback(boolean feedback) {
        this.feedback = feedback;
        return self();
    }

    /**
     * Makes every forward also return the readout of every step (default false), for training with
     * a {@link dfbmodels.DeepSupervisionLoss} through DJL's {@code Trainer}. See {@link
     * FeedbackBlock.Builder#optStepReadouts(boolean)}.
     *
     * @param stepReadouts true to return the per-step readouts
     * @return this builder
     */
    public T optStepReadouts(boolean stepReadouts) {
        this.stepReadouts = stepReadouts;
        return self();
    }

    /**
     * Checks the shared settings that the loop does not check itself.
     *
     * @throws IllegalArgumentException naming the setting and its value
     */
    protected void validateCommon() {
        if (numClasses < 1) {
            throw new IllegalArgumentException(
                    "numClasses must be set to a positive number (setNumClasses), got "
                            + numClasses);
        }
        if (inChannels < 1) {
            throw new IllegalArgumentException("inChannels must be positive, got " + inChannels);
        }
    }

    /**
     * Returns a loop builder carrying the shared settings (T, atol, tau, input channels, NaN check,
     * initial state, uniform shortcut, feedback on or off, per-step readouts); iterations and tau
     * are validated there.
     *
     * @return a {@link FeedbackBlock} builder
     */
    protected FeedbackBlock.Builder loop() {
        return FeedbackBlock.builder()
                .optIterations(iterations)
                .optAtol(atol)
                .optTau(tau)
                .optInChannels(inChannels)
                .optCheckFinite(checkFinite)
                .optInitialStateStd(initialStateStd)
                .optUniformShortcut(uniformShortcut)
                .optFeedback(feedback)
                .optStepReadouts(stepReadouts);
    }
}
