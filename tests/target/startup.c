/* Minimal Cortex-M4F start-up for the tests/target harness (QEMU netduinoplus2, TARGET.md §3):
 * vector table, .data/.bss initialisation, FPU enable, main's return value as the exit code,
 * and fault handlers that print the stacked frame and exit with 126 (fault) or 125 (any other
 * exception). */
#include <stdint.h>

#include "semihost.h"

extern uint32_t _sidata, _sdata, _edata, _sbss, _ebss, _estack;
int main(void);
void Reset_Handler(void);
void HardFault_Handler(void);
void Default_Handler(void);

__attribute__((section(".isr_vector"), used)) void (*const g_vectors[16])(void) = {
    (void (*)(void))(&_estack),
    Reset_Handler,
    Default_Handler,
    HardFault_Handler,
    HardFault_Handler,
    HardFault_Handler,
    HardFault_Handler,
    0,
    0,
    0,
    0,
    Default_Handler,
    Default_Handler,
    0,
    Default_Handler,
    Default_Handler,
};

/* the copy loops must not become memcpy/memset calls before .data exists */
__attribute__((optimize("no-tree-loop-distribute-patterns"))) void Reset_Handler(void)
{
    uint32_t *src = &_sidata, *dst = &_sdata;
    while (dst < &_edata)
        *dst++ = *src++;
    for (dst = &_sbss; dst < &_ebss;)
        *dst++ = 0;
    *(volatile uint32_t *)0xE000ED88u |= 0xFu << 20; /* CPACR: CP10, CP11 full access */
    __asm__ volatile("dsb\n\tisb" ::: "memory");
    sh_exit((uint32_t)main());
}

static void put_hex(const char *name, uint32_t v)
{
    static const char hex[] = "0123456789abcdef";
    char b[12];
    b[0] = '0', b[1] = 'x';
    for (int i = 0; i < 8; i++)
        b[2 + i] = hex[(v >> (28 - 4 * i)) & 15u];
    b[10] = ' ', b[11] = 0;
    sh_puts(name);
    sh_puts(b);
}

void Default_Handler(void)
{
    uint32_t ipsr;
    __asm__ volatile("mrs %0, ipsr" : "=r"(ipsr));
    put_hex("\n*** unexpected exception, IPSR=", ipsr);
    sh_puts("\n");
    sh_exit(125);
}

__attribute__((used)) void hardfault_report(const uint32_t *frame)
{
    static const char *const names[8] = {"r0=", "r1=", "r2=", "r3=", "r12=", "lr=", "pc=", "xpsr="};
    sh_puts("\n*** HardFault\n");
    for (int i = 0; i < 8; i++)
        put_hex(names[i], frame[i]);
    put_hex("\nCFSR=", *(volatile uint32_t *)0xE000ED28u);
    put_hex("HFSR=", *(volatile uint32_t *)0xE000ED2Cu);
    put_hex("BFAR=", *(volatile uint32_t *)0xE000ED38u);
    sh_puts("\n");
    sh_exit(126);
}

__attribute__((naked)) void HardFault_Handler(void)
{
    __asm__ volatile("tst lr, #4\n\t"
                     "ite eq\n\t"
                     "mrseq r0, msp\n\t"
                     "mrsne r0, psp\n\t"
                     "b hardfault_report\n\t");
}
