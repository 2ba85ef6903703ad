/* Startup for the STM32F405 (Cortex-M4F) as QEMU 7.2 netduinoplus2 emulates it (TARGET.md §3):
 * vector table, .data copy and .bss clear, FPU enable, fault handlers that print the fault
 * status registers and the stacked frame over semihosting and exit with status 126 (125 for
 * any other unexpected exception). main's return value becomes QEMU's exit status. The board
 * support of deploy/board/ (this file, link.ld, semihost.[ch]) is copied into every generated
 * firmware and linked into the kernel harness tests/target. */
#include <stdint.h>

#include "semihost.h"

extern uint32_t _sidata, _sdata, _edata, _sbss, _ebss, _estack;
int main(void);

void Reset_Handler(void);
void Fault_Handler(void);
void Default_Handler(void);

#define MF_N_IRQ 82 /* STM32F405 peripheral interrupts (all unused: Default_Handler) */

__attribute__((section(".isr_vector"), used)) void (*const mf_vector_table[16 + MF_N_IRQ])(void) = {
    [0] = (void (*)(void))(&_estack), /* initial MSP: top of the 128 KiB SRAM */
    [1] = Reset_Handler,
    [2] = Default_Handler,  /* NMI */
    [3] = Fault_Handler,    /* HardFault */
    [4] = Fault_Handler,    /* MemManage */
    [5] = Fault_Handler,    /* BusFault */
    [6] = Fault_Handler,    /* UsageFault */
    [11] = Default_Handler, /* SVCall */
    [12] = Default_Handler, /* DebugMonitor */
    [14] = Default_Handler, /* PendSV */
    [15] = Default_Handler, /* SysTick */
    [16 ... 16 + MF_N_IRQ - 1] = Default_Handler,
};

/* The copy/clear loops must not become memcpy/memset calls (TARGET.md §7.6). */
__attribute__((optimize("no-tree-loop-distribute-patterns"))) void Reset_Handler(void)
{
    uint32_t *src = &_sidata, *dst = &_sdata;
    while (dst < &_edata)
        *dst++ = *src++;
    for (dst = &_sbss; dst < &_ebss;)
        *dst++ = 0;
    /* FPU: full access to CP10/CP11 (SCB->CPACR) before the first FP instruction */
    *(volatile uint32_t *)0xE000ED88u |= 0xFu << 20;
    __asm__ volatile("dsb\n\tisb" ::: "memory");
    sh_exit((uint32_t)main());
}

void Default_Handler(void)
{
    uint32_t ipsr;
    __asm__ volatile("mrs %0, ipsr" : "=r"(ipsr));
    sh_puts("\n*** unexpected exception, IPSR=");
    sh_put_u32(ipsr);
    sh_puts("\n");
    sh_exit(125);
}

/* frame = the stacked r0, r1, r2, r3, r12, lr, pc, xpsr */
__attribute__((used)) void mf_fault_report(const uint32_t *frame, uint32_t exc_return)
{
    static const char *const names[8] = {"r0", "r1", "r2", "r3", "r12", "lr", "pc", "xpsr"};
    static const char *const kinds[7] = {"?",         "?",        "?",         "HardFault",
                                         "MemManage", "BusFault", "UsageFault"};
    uint32_t ipsr;
    __asm__ volatile("mrs %0, ipsr" : "=r"(ipsr));
    sh_puts("\n*** FAULT ");
    sh_puts(ipsr < 7 ? kinds[ipsr] : "?");
    sh_puts(": stacked pc=");
    sh_put_hex(frame[6]);
    sh_puts("\n");
    for (int i = 0; i < 8; i++) {
        sh_puts(names[i]);
        sh_puts("=");
        sh_put_hex(frame[i]);
        sh_puts(i % 4 == 3 ? "\n" : " ");
    }
    sh_puts("CFSR=");
    sh_put_hex(*(volatile uint32_t *)0xE000ED28u);
    sh_puts(" HFSR=");
    sh_put_hex(*(volatile uint32_t *)0xE000ED2Cu);
    sh_puts(" MMFAR=");
    sh_put_hex(*(volatile uint32_t *)0xE000ED34u);
    sh_puts(" BFAR=");
    sh_put_hex(*(volatile uint32_t *)0xE000ED38u);
    sh_puts(" EXC_RETURN=");
    sh_put_hex(exc_return);
    sh_puts("\n");
    sh_exit(126);
}

/* The frame was pushed on MSP or PSP (EXC_RETURN bit 2). */
__attribute__((naked)) void Fault_Handler(void)
{
    __asm__ volatile("tst lr, #4        \n\t"
                     "ite eq            \n\t"
                     "mrseq r0, msp     \n\t"
                     "mrsne r0, psp     \n\t"
                     "mov r1, lr        \n\t"
                     "b mf_fault_report \n\t");
}
