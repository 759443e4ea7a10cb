// The part of autocannon's API bench/api.ts uses (the package ships no types).
declare module 'autocannon' {
  namespace autocannon {
    interface Options {
      url: string
      method?: string
      headers?: Record<string, string>
      body?: string
      connections?: number
      duration?: number
      expectBody?: string
    }
    interface Histogram {
      average: number
      p50: number
      p99: number
    }
    interface Result {
      duration: number
      errors: number
      timeouts: number
      latency: Histogram
      requests: Histogram & {total: number}
      statusCodeStats?: Record<string, {count: number}>
    }
  }
  function autocannon(options: autocannon.Options): Promise<autocannon.Result>
  export default autocannon
}
