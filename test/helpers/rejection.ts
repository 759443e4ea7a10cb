/** The rejection of `work`, which must fail (the test fails when it resolves). */
export async function rejection(work: Promise<unknown>): Promise<unknown> {
  try {
    await work
  } catch (error) {
    return error
  }
  throw new Error('expected the statement to be refused, but it ran')
}
